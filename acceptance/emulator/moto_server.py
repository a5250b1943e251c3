"""Starts moto's server (the AWS emulator the tests run against) with fixes for its known bugs.

Run with the Python of the tools virtualenv that `make tools` creates; arguments are
moto_server's own (`-H 127.0.0.1 -p PORT`). Each fix is a bug of the emulator, not a behaviour
of AWS: the provider under test never knows about them.
"""

import sys

from moto.glue import glue_schema_registry_utils
from moto.lakeformation import models as lakeformation


def _add_permission(self, permission):
    """Lake Formation grants: merge a grant into an existing principal-resource entry.

    moto 5.2.5 merges in place while the entry sits in a set keyed by its hash, so the next
    revoke of that pair raises KeyError (HTTP 500). Real Lake Formation revokes fine. Take the
    entry out of the set before changing it, then put it back.
    """
    for existing in list(self.permissions):
        if permission.equal_principal_and_resouce(existing):
            self.permissions.discard(existing)
            existing.merge(permission)
            self.permissions.add(existing)
            return
    self.permissions.add(permission)


lakeformation.PermissionCatalog.add_permission = _add_permission

# Glue Schema Registry: moto 5.2.5 refuses an eleventh registry in an account. AWS's quota is
# 100 registries per account per Region (AWS Glue developer guide, Schema Registry quotas); the
# suite creates one per data product test and runs every test on two Terraform versions.
glue_schema_registry_utils.MAX_REGISTRIES_ALLOWED = 100

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
