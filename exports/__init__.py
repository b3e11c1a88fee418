"""Files: what the pages download and `python -m queries export` writes.

columns        each column's name (scripts, Parquet) and label (screen, CSV, XLSX)
formats        one rendering of a table for the page, CSV, JSON and the terminal
files          provenance, CSV / XLSX / Parquet of a table, chart images
xlsx           the XLSX file: typed cells, a provenance sheet
raw            raw extracts streamed from COPY
pseudonyms     keyed hashes for raw extracts without personal data
charts         the Vega-Lite chart specs the pages show and the images render
cli            `python -m queries export ...`
"""
