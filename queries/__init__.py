"""The read side: named SQL (catalog, sql/) in, DataFrames out, through a cache.

    catalog        the SQL catalog: a leaf, imported by every layer, importing nothing of ours
    reads          run / fetch: cached and uncached reads on the reader pool
    cache, momento_cache   the cache backends
    growth, explore, sessions   what the pages ask

Importing this package loads nothing: `from queries import catalog` stays light.
"""
