"""What every SDK-backed adapter needs, so an adapter brings only its nouns and code tables.

- ``sdk_calls``      blocking SDK calls on a worker thread: paging, page tokens, long-running operations
- ``error_codes``    one classifier fed by each cloud's table of error codes and SDK exceptions
- ``naming``         ``clusterdb-{fleet}`` resource names, the ownership tag, each cloud's tag rules
- ``pricing``        catalog prices for a listing (memoised, NaN where the catalog has none)
- ``instance_rows``  ``frames.INSTANCES`` built column-wise, one row per instance, priced while running
- ``utilization``    ``frames.UTILIZATION`` / ``INSTANCE_UTILIZATION`` from per-series metrics
- ``cost_estimate``  the cost window and the catalog estimate behind (or instead of) billing data
- ``plans``          typed requests a dry run's plan is written from, and the ``Api(Param=...)`` text
- ``offline``        which clouds an offline fake serves now (``credentials: anonymous`` passes only then)

Nothing here imports a cloud SDK::

    >>> from clusterdb_nb.providers.kit import naming
    >>> naming.resource_name("web")
    'clusterdb-web'
"""

__all__: list[str] = []
