"""The config service behind the gateway against the local control plane.

The same in-process suite as tests/e2e/cluster_admin (see its conftest for what is real and
what is captured); nothing is mocked. The etcd v3 JSON gateway on the local etcd client port
(SCS_ETCD_PORT, default 12379; plain HTTP on 127.0.0.1, deploy/cluster/lib.sh) is read
directly to check that Secrets are encrypted at rest.
"""

from tests.e2e.cluster_admin import conftest as suite

amqp_vhost = suite.amqp_vhost
admin_token = suite.admin_token
world = suite.world
kube_api = suite.kube_api
core = suite.core
suite_config = suite.suite_config
bus = suite.bus
logs = suite.logs
client = suite.client
namespaces = suite.namespaces
