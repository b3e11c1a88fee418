-- For this transaction, old rows do not adjust the rollup one by one: the loader recounts their hours itself.
SELECT set_config('cruddur.rollup_bulk', 'on', true)
