"""Azure: fleets as Flexible VM scale sets, instances as their VMs (Microsoft's azure-mgmt-* SDKs).

Importing this package imports the Azure SDKs; ``import clusterdb_nb`` does not.

    >>> s = clusterdb_nb.connect(azure={"subscription_id": "...", "subnet_id": "/subscriptions/.../subnets/default"})
"""

from .provider import AzureProvider

__all__ = ["AzureProvider"]
