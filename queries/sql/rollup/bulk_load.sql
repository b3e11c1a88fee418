-- For this transaction, rows loaded in bulk do not fire the backfill trigger: the loader recounts their hours itself.
SELECT set_config('cruddur.rollup_bulk_load', 'on', true)
