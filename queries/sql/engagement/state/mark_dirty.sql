-- Mark every zone's engagement state dirty (loaders that write old rows): readers count live until it is rebuilt.
-- class: write
UPDATE public.engagement_zones SET dirty = true WHERE NOT dirty
