"""`scs demo` (`make demo`): the product's first ten minutes, played by real roles.

Against the running suite, over the gateway's HTTP API only, as three people would:

1. the cloud admin (credentials written by `make run`) creates a department, a project with a
   quota and a namespace, and two users: the project's admin and an ordinary member;
2. the project admin deploys the team's example manifests (`examples/`): a web app behind a
   LoadBalancer, an autoscaled API (exposed through its network settings: a Service and an
   Ingress), a batch Job, a StatefulSet with volumes and a GPU Job, and waits until each is
   Running or complete, its address assigned, its volumes bound;
3. the project admin plays a load on the autoscaled API through the local cluster's usage
   annotation (`kwok.x-k8s.io/usage-cpu` on the pod template), so the real HPA controller
   scales it out, then lowers it so it scales back in; each change comes from the audit trail;
4. the ordinary member lists the pods, reads a pod's log, opens a terminal, and is refused
   what the permission matrix does not give a member;
5. the cloud admin reads the project's audit trail and its billed usage.

Every step is printed as one line of a timeline (seconds since the start, who, what). Names
carry a short tag (`--tag`, else random) so that the demo can run again on the same suite.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import requests
import yaml

from cli import terminal
from cli.client import Gateway, api_path
from cli.context import Context
from cli.errors import EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE, CliError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# (file, what it shows); applied in this order
MANIFESTS = (
    ("web-app.yaml", "a web app behind a LoadBalancer"),
    ("autoscaled-api.yaml", "an autoscaled API (HPA 1-4 on CPU)"),
    ("batch-job.yaml", "a batch Job (6 shards, 2 at a time)"),
    ("stateful-db.yaml", "a StatefulSet with a volume per replica"),
    ("gpu-job.yaml", "a training Job on one NVIDIA T4"),
)
WEB, AUTOSCALED = "storefront", "catalog-api"
USAGE_ANNOTATION = "kwok.x-k8s.io/usage-cpu"
QUOTA = {
    "cpu": "12",
    "memory": "24Gi",
    "gpu": 1,
    "storage.high-performance": "10Gi",
    "storage.capacity": "10Gi",
    "count.pods": 30,
}
POLL_S = 1.0


class Timeline:
    """Lines `  +12.3s  who  what`, printed as they happen."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()
        self.rows: list[tuple[float, str, str]] = []

    def step(self, title: str) -> None:
        self.out.write(f"\n== {title}\n")
        self.out.flush()

    def mark(self, who: str, what: str) -> None:
        elapsed = time.monotonic() - self.started
        self.rows.append((elapsed, who, what))
        self.out.write(f"  +{elapsed:6.1f}s  {who:<13}  {what}\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.out.write(f"{'':26}{text}\n")
        self.out.flush()


@dataclass
class Person:
    role: str  # as printed on the timeline
    username: str
    gateway: Gateway


@dataclass
class Tenant:
    tag: str
    department: dict[str, Any] = field(default_factory=dict)
    project: dict[str, Any] = field(default_factory=dict)
    namespace: str = ""
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return api_path("projects", self.project["id"])


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    """check()'s first truthy answer; a demo_timeout error naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        if time.monotonic() > deadline:
            raise CliError(
                EXIT_UNAVAILABLE, "demo_timeout", f"{what}: not seen within {timeout:.0f}s"
            )
        time.sleep(POLL_S)
    return answer


def admin_credentials(path: str | None) -> tuple[str, str]:
    """SCS_ADMIN_USERNAME/SCS_ADMIN_PASSWORD, else the file `make run` wrote."""
    if os.environ.get("SCS_ADMIN_PASSWORD") and not path:
        return os.environ.get("SCS_ADMIN_USERNAME") or "admin", os.environ["SCS_ADMIN_PASSWORD"]
    state = Path(os.environ.get("SCS_STATE_DIR") or Path.home() / ".local/state/scs")
    source = Path(path) if path else state / "admin-credentials"
    try:
        lines = source.read_text().splitlines()
    except OSError as exc:
        raise CliError(
            EXIT_USAGE,
            "no_admin_credentials",
            f"cannot read {source} ({exc.strerror}): start the suite with `make run`, or pass "
            "--admin-credentials, or set SCS_ADMIN_PASSWORD",
            "admin-credentials",
        ) from exc
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if not values.get("username") or not values.get("password"):
        raise CliError(
            EXIT_USAGE,
            "no_admin_credentials",
            f"{source} has no username= and password= lines",
            "admin-credentials",
        )
    return values["username"], values["password"]


def log_in(server: str, role: str, username: str, password: str) -> Person:
    answer = Gateway(server, None).call(
        "POST", "/auth/login", {"username": username, "password": password}, public=True
    )
    return Person(role, username, Gateway(server, answer["token"]))


def wait_until_ready(server: str, timeout: float) -> None:
    """The gateway's /readyz (every service answering), for a demo started with the suite."""

    def ready() -> bool:
        try:
            return requests.get(f"{server}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for("every service ready (GET /readyz)", ready, timeout)
    except CliError as exc:
        raise CliError(
            EXIT_UNAVAILABLE,
            "suite_not_ready",
            f"{exc.message} at {server}: is `make run` running?",
        ) from exc


class Demo:
    def __init__(self, ctx: Context) -> None:
        self.args = ctx.args
        self.server = ctx.gateway.server
        self.timeline = Timeline(ctx.out)
        self.timeout = float(ctx.args.timeout)
        self.examples = Path(ctx.args.examples or EXAMPLES)
        tag = ctx.args.tag or secrets.token_hex(2)
        self.tenant = Tenant(tag=tag, namespace=f"shop-{tag}")
        self.started_at = datetime.now(UTC)

    # -- 1. the cloud admin --------------------------------------------------------------

    def set_up_tenant(self, credentials: tuple[str, str]) -> tuple[Person, Person, Person]:
        self.timeline.step("1. The cloud admin sets up a department, a project and two users")
        admin = log_in(self.server, "cloud admin", *credentials)
        self.timeline.mark(admin.role, f"logged in as {admin.username}")
        gw, tenant, tag = admin.gateway, self.tenant, self.tenant.tag
        tenant.department = gw.call(
            "POST", "/departments", {"name": f"retail-{tag}", "description": "scs demo"}
        )
        self.timeline.mark(admin.role, f"created department {tenant.department['name']}")
        tenant.project = gw.call(
            "POST",
            "/projects",
            {"name": f"shop-{tag}", "department_id": tenant.department["id"]},
        )
        self.timeline.mark(admin.role, f"created project {tenant.project['name']}")
        gw.call("PUT", f"{tenant.base}/quota", {"limits": QUOTA})
        self.timeline.mark(
            admin.role, "set the quota: " + ", ".join(f"{k}={v}" for k, v in QUOTA.items())
        )
        gw.call("POST", f"{tenant.base}/namespaces", {"name": tenant.namespace})
        wait_for(
            f"namespace {tenant.namespace} ready",
            lambda: gw.get(tenant.base + api_path("namespaces", tenant.namespace))["ready"],
            self.timeout,
        )
        self.timeline.mark(
            admin.role,
            f"namespace {tenant.namespace} ready (Kata-only, quota mirrored, network isolated)",
        )
        people = []
        for suffix, role, label in (
            ("lead", "project_admin", "project admin"),
            ("dev", "user", "user"),
        ):
            username, password = f"{tag}-{suffix}", secrets.token_hex(12)
            user = gw.call("POST", "/users", {"username": username, "password": password})
            gw.call("POST", f"{tenant.base}/members", {"user_id": user["id"], "role": role})
            tenant.passwords[username] = password
            self.timeline.mark(admin.role, f"created user {username} and made them {label}")
            people.append(log_in(self.server, label, username, password))
        return admin, people[0], people[1]

    # -- 2. the project admin deploys ----------------------------------------------------

    def deploy(self, lead: Person) -> None:
        self.timeline.step("2. The project admin deploys the example manifests")
        gw, tenant = lead.gateway, self.tenant
        workloads: list[dict[str, Any]] = []
        for name, what in MANIFESTS:
            text = self._read_example(name)
            answer = gw.call(
                "POST",
                f"{tenant.base}/workloads",
                {"namespace": tenant.namespace, "manifest": text},
            )
            created = ", ".join(f"{o['kind']}/{o['name']}" for o in answer.get("objects", []))
            self.timeline.mark(lead.role, f"applied {name} ({what}): {created}")
            workloads += answer.get("workloads", [])
        self.expose_api(lead)
        self._follow_rollouts(gw, workloads)

    def _read_example(self, name: str) -> str:
        try:
            return (self.examples / name).read_text()
        except OSError as exc:
            raise CliError(
                EXIT_USAGE,
                "unreadable_file",
                f"cannot read {self.examples / name}: {exc.strerror}",
                "examples",
            ) from exc

    def expose_api(self, lead: Person) -> None:
        """The API's network settings: a ClusterIP Service on its `http` port and an Ingress."""
        host = f"api.{self.tenant.namespace}.example"
        settings = {
            "service": {
                "type": "ClusterIP",
                "ports": [{"name": "http", "port": 80, "target_port": "http"}],
            },
            "ingress": {"host": host, "path": "/"},
        }
        answer = lead.gateway.call(
            "PUT",
            f"{self.tenant.base}/workloads/{AUTOSCALED}/network",
            settings,
            params={"namespace": self.tenant.namespace},
        )
        service = answer["service"]
        self.timeline.mark(
            lead.role,
            f"exposed {AUTOSCALED}: service {service['name']} {service['cluster_ip']}:80 "
            f"-> http, ingress http://{host}/",
        )

    def _follow_rollouts(self, gw: Gateway, workloads: list[dict[str, Any]]) -> None:
        """One timeline line per milestone: rollouts complete, address, volumes, GPU node."""
        tenant, ns = self.tenant, self.tenant.namespace
        pending: dict[str, Callable[[], str | None]] = {}
        for record in workloads:
            pending[f"{record['kind']}/{record['name']}"] = self._rollout_check(gw, record)
        pending["address"] = lambda: self._address(gw)
        pending["volumes"] = lambda: self._volumes(gw)
        pending["gpu"] = lambda: self._gpu_node(gw)
        deadline = time.monotonic() + self.timeout
        while pending:
            for key, check in list(pending.items()):
                if (line := check()) is not None:
                    self.timeline.mark("cluster", line)
                    del pending[key]
            if pending and time.monotonic() > deadline:
                raise CliError(
                    EXIT_UNAVAILABLE,
                    "demo_timeout",
                    f"not seen within {self.timeout:.0f}s in {ns}: {', '.join(pending)}",
                )
            if pending:
                time.sleep(POLL_S)
        used = gw.get(f"{tenant.base}/quota")["resources"]
        self.timeline.mark(
            "quota",
            "used: "
            + ", ".join(
                f"{name} {_amount(name, used[name]['used'])}/{_amount(name, used[name]['limit'])}"
                for name in ("cpu", "memory", "gpu", "count.pods", "storage.high-performance")
                if name in used
            ),
        )
        self.timeline.note("(CPU and memory include each Kata sandbox's overhead: 250m, 160Mi)")

    def _rollout_check(self, gw: Gateway, record: dict[str, Any]) -> Callable[[], str | None]:
        path = self.tenant.base + api_path("workloads", record["name"])
        label = f"{record['kind'].lower()}/{record['name']}"

        def check() -> str | None:
            rollout = gw.get(path, namespace=self.tenant.namespace).get("rollout") or {}
            if rollout.get("state") == "failed":
                raise CliError(
                    EXIT_REFUSED, "rollout_failed", f"{label}: {rollout.get('message')}"
                )
            if rollout.get("state") != "complete":
                return None
            if record["kind"] == "Job":
                return f"{label} complete: {rollout.get('succeeded')} pods succeeded"
            ready = rollout.get("availableReplicas", rollout.get("readyReplicas"))
            return f"{label} Running: {ready}/{rollout.get('replicas')} replicas ready"

        return check

    def _address(self, gw: Gateway) -> str | None:
        services = gw.get(f"{self.tenant.base}/services", namespace=self.tenant.namespace)
        for service in services["items"]:
            balancer = service.get("load_balancer") or {}
            if service["name"] == WEB and balancer.get("address"):
                members = len(balancer.get("members") or [])
                return (
                    f"service/{WEB} got address {balancer['address']} ({members} pods behind it)"
                )
        return None

    def _volumes(self, gw: Gateway) -> str | None:
        path = f"{self.tenant.base}/volume-claims"
        claims = gw.get(path, namespace=self.tenant.namespace)["items"]
        if len(claims) < 2 or any(c["phase"] != "Bound" for c in claims):
            return None
        sizes = ", ".join(
            f"{c['name']} {_amount('storage', c['capacity_bytes'])} {c['storage_class']}"
            for c in claims
        )
        return f"volumes bound: {sizes}"

    def _gpu_node(self, gw: Gateway) -> str | None:
        path = f"{self.tenant.base}/workloads/recommender-training/pods"
        pods = gw.get(path, namespace=self.tenant.namespace)["items"]
        placed = [p for p in pods if p.get("node")]
        if not placed:
            return None
        return f"GPU job pod {placed[0]['name']} placed on node {placed[0]['node']}"

    # -- 3. load, scale out and in --------------------------------------------------------

    def play_load(self, lead: Person) -> None:
        self.timeline.step("3. Load rises and falls on the autoscaled API (the HPA follows)")
        self._set_usage(lead, "400m")
        self.timeline.mark(
            lead.role, f"load up: {AUTOSCALED} pods use 400m CPU (200 % of request)"
        )
        self._wait_scaled(lead, lambda to: to >= 4, "a scale-out to 4 replicas")
        self._set_usage(lead, "20m")
        self.timeline.mark(lead.role, f"load down: {AUTOSCALED} pods use 20m CPU (10 %)")
        self._wait_scaled(lead, lambda to: to == 1, "a scale-in to 1 replica")

    def _set_usage(self, lead: Person, cpu: str) -> None:
        """Replace the Deployment from its example with the usage annotation on its pods."""
        docs = yaml.safe_load_all(self._read_example("autoscaled-api.yaml"))
        deployment = next(d for d in docs if d and d.get("kind") == "Deployment")
        template = deployment["spec"]["template"]
        template["metadata"].setdefault("annotations", {})[USAGE_ANNOTATION] = cpu
        lead.gateway.call(
            "PUT",
            f"{self.tenant.base}/workloads/{AUTOSCALED}/yaml",
            {"manifest": deployment},
            params={"namespace": self.tenant.namespace},
        )

    def _wait_scaled(self, lead: Person, reached: Callable[[int], bool], what: str) -> None:
        """Each workload.scaled record of the audit trail, until one reaches the target."""
        seen: set[str] = getattr(self, "_scaled_seen", set())
        self._scaled_seen = seen

        def scaled() -> bool:
            records = lead.gateway.get(
                f"{self.tenant.base}/audit",
                type="workload.scaled",
                resource_name=AUTOSCALED,
                limit=100,
            )["items"]
            done = False
            for record in sorted(records, key=lambda r: r["seq"]):
                if record["event_id"] in seen:
                    continue
                seen.add(record["event_id"])
                data = record["data"]
                metric = (data.get("metrics") or [{}])[0]
                usage = ""
                if metric.get("current") is not None:
                    usage = f", cpu {metric['current']} % of request, target {metric['target']} %"
                self.timeline.mark(
                    "HPA",
                    f"{AUTOSCALED} scaled {data['from']} -> {data['to']} "
                    f"({data.get('reason')}{usage})",
                )
                done = done or reached(int(data["to"]))
            return done

        wait_for(what, scaled, self.timeout)

    # -- 4. the ordinary member ---------------------------------------------------------

    def use_as_member(self, user: Person) -> None:
        self.timeline.step("4. The ordinary user looks at the app, its logs and a terminal")
        gw, tenant, ns = user.gateway, self.tenant, self.tenant.namespace
        pods = gw.get(f"{tenant.base}/workloads/{WEB}/pods", namespace=ns)["items"]
        running = [p for p in pods if p["phase"] == "Running"]
        self.timeline.mark(
            user.role, f"listed {len(pods)} {WEB} pods ({len(running)} Running, each in a Kata VM)"
        )
        pod = running[0]["name"]
        lines = gw.get(tenant.base + api_path("pods", pod, "logs"), namespace=ns, tail_lines=3)[
            "lines"
        ]
        self.timeline.mark(user.role, f"read the last {len(lines)} log lines of {pod}:")
        for line in lines:
            self.timeline.note(f"| {line}")
        self._open_terminal(user, pod)
        try:
            gw.call("DELETE", tenant.base + api_path("namespaces", ns))
        except CliError as refused:
            self.timeline.mark(
                user.role, f"tried to delete namespace {ns}: refused, {refused.code}"
            )
        else:
            raise CliError(
                EXIT_REFUSED, "demo_failed", f"an ordinary user could delete namespace {ns}"
            )

    def _open_terminal(self, user: Person, pod: str) -> None:
        url = terminal.session_url(
            self.server, self.tenant.project["id"], self.tenant.namespace, pod, ["hostname"]
        )
        try:
            ws = terminal.connect(user.gateway, url)
        except CliError as refused:
            self.timeline.mark(user.role, f"opened a terminal to {pod}: refused, {refused.code}")
            if refused.code == "cluster_unavailable" and "no exec found" in refused.message:
                self.timeline.note(
                    "(authorised and relayed to the node; the local cluster's nodes are "
                    "simulated and run no process: a real node runs it in the pod's Kata VM)"
                )
            else:
                self.timeline.note(refused.message)
            return
        try:
            hello = ws.recv()
            output, reason = [], ""
            while True:
                opcode, frame = ws.recv_data(control_frame=True)
                if opcode == terminal.websocket.ABNF.OPCODE_CLOSE:
                    reason = frame[2:].decode(errors="replace") if len(frame) > 2 else ""
                    break
                output.append(frame.decode(errors="replace"))
        finally:
            ws.close()
        self.timeline.mark(
            user.role, f"opened a terminal to {pod} ({_session(hello)}): `hostname`"
        )
        text = "".join(output).strip()
        if text:
            self.timeline.note(f"| {text}")
        self.timeline.note(f"session ended: {reason or 'closed'}")

    # -- 5. the trail and the bill ---------------------------------------------------------

    def report(self, admin: Person) -> None:
        self.timeline.step("5. The cloud admin reads the audit trail and the bill")
        gw, tenant = admin.gateway, self.tenant
        records = gw.get(f"{tenant.base}/audit", limit=500)
        kinds = Counter(r["type"] for r in records["items"])
        self.timeline.mark(
            admin.role, f"{records['total']} audit records for project {tenant.project['name']}"
        )
        for kind, count in sorted(kinds.items(), key=lambda item: (-item[1], item[0])):
            self.timeline.note(f"{count:4d} x {kind}")
        since = self.started_at.isoformat()
        usage = gw.get(f"{tenant.base}/billing/usage", since=since)
        cost = gw.get(f"{tenant.base}/billing/cost", since=since)
        cpu, memory = usage["cpu_core_seconds"], usage["memory_gib_seconds"]
        self.timeline.mark(
            admin.role,
            f"billed since the start: {cpu['requested']:.1f} CPU core-seconds "
            f"(+{cpu['overhead']:.1f} sandbox overhead), "
            f"{memory['requested']:.1f} GiB-seconds of memory",
        )
        extras = [f"GPU {model} {s:.1f} s" for model, s in usage["gpu_seconds"].items()]
        extras += [f"storage {c} {s:.1f} GiB-s" for c, s in usage["storage_gib_seconds"].items()]
        if extras:
            self.timeline.note(", ".join(extras))
        self.timeline.note(f"cost so far: {cost['total']} {cost['currency']}")

    def clean_up(self, admin: Person) -> None:
        tenant = self.tenant
        admin.gateway.call(
            "DELETE",
            tenant.base + api_path("namespaces", tenant.namespace),
            params={"force": "true"},
        )
        for username in tenant.passwords:
            users = admin.gateway.get("/users", limit=500)["items"]
            for user in (u for u in users if u["username"] == username):
                admin.gateway.call("POST", api_path("users", user["id"], "disable"))
        self.timeline.mark(
            admin.role, f"cleaned up: namespace {tenant.namespace} deleted, demo users disabled"
        )

    def run(self) -> int:
        credentials = admin_credentials(self.args.admin_credentials)
        wait_until_ready(self.server, self.timeout)
        admin, lead, user = self.set_up_tenant(credentials)
        self.deploy(lead)
        self.play_load(lead)
        self.use_as_member(user)
        self.report(admin)
        if self.args.cleanup:
            self.clean_up(admin)
        self._summary()
        return 0

    def _summary(self) -> None:
        elapsed = time.monotonic() - self.timeline.started
        tenant, out = self.tenant, self.timeline.out
        out.write(f"\nDone in {elapsed:.0f}s. Project {tenant.project['name']}, ")
        out.write(f"namespace {tenant.namespace}.\n")
        if not self.args.cleanup:
            out.write("Look around as the demo's users (passwords shown once):\n")
            for username, password in tenant.passwords.items():
                out.write(f"  scs login -u {username} --password={password}\n")
            out.write(f"  scs get pods -p {tenant.project['name']} -n {tenant.namespace}\n")
        out.flush()


def _amount(name: str, value: Any) -> str:
    if value is None:
        return "unlimited"
    if name == "cpu":
        return f"{value / 1000:g}"
    if name == "memory" or name.startswith("storage"):
        return f"{value / 2**30:.1f}Gi"
    return str(value)


def _session(hello: Any) -> str:
    try:
        return f"session {yaml.safe_load(hello)['session_id']}"
    except (yaml.YAMLError, KeyError, TypeError):
        return "session opened"


def run(ctx: Context) -> int:
    return Demo(ctx).run()
