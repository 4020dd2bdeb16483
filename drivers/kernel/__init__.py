"""What every driver shares: the service's database and its migrations runner, the tenant-scoped
repository, keyset paging, batching, cache invalidation across replicas.
"""
