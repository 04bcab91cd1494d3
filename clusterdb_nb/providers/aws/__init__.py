"""AWS: fleets as Auto Scaling groups, instances on EC2, functions on Lambda (boto3).

Importing this package imports boto3; ``import clusterdb_nb`` does not.

    >>> s = clusterdb_nb.connect(aws={"region": "us-east-1"})
"""

from .provider import AwsProvider

__all__ = ["AwsProvider"]
