"""The storage interface tests reuse the network suite's fixtures (same services, same
isolation by run label): see tests/interface/network/conftest.py for what is real."""

from tests.interface.network.conftest import (  # noqa: F401 - fixtures reused by name
    admin_token,
    amqp_vhost,
    client,
    rpc,
    run_label,
    suite_config,
    world,
)
