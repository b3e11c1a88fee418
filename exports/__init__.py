"""Files: what the pages download and `python -m queries export` writes.

formats        one rendering of a table for the page, CSV, JSON and the terminal
files          provenance, CSV / Parquet of a table, chart images
raw            raw extracts streamed from COPY
charts         the Vega-Lite chart specs the pages show and the images render
cli            `python -m queries export ...`
"""
