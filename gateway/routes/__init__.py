"""The gateway's endpoints, one module per area; GatewayService combines them.

A module holds one mixin class whose methods are declared with `gateway.api.route`. The mixin
uses the RPC proxies declared on GatewayService (`self.auth`, `self.quota`, ...).
"""
