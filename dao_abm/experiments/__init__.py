"""Experiments over many runs: mechanism comparisons and resumable parameter sweeps.

- ``grid``: ``--grid key=v1,v2`` expressions, their Cartesian product, cells and cell ids;
- ``sweep``: backends (in-process, process pool, Dask cluster) and the resumable sweep;
- ``store``: the sweep folder on disk (one Parquet part per cell, written atomically);
- ``compare``: mechanisms on common random numbers, with confidence intervals;
- ``stats``: means over seeds and Student-t intervals.
"""
