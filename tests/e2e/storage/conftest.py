"""The storage end-to-end tests share the network suite's fixtures (see its conftest)."""

from tests.e2e.network.conftest import (  # noqa: F401 - fixtures reused by name
    _cluster_first,
    admin_token,
    amqp_vhost,
    apps,
    client,
    core,
    events,
    kube,
    networking,
    project_namespace,
    rpc,
    run_label,
    suite_config,
    world,
)
