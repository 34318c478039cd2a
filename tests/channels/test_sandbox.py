"""The sandbox framework shared by every platform sandbox: registry, hosts, fault injection."""

from __future__ import annotations

import requests

from publisher.channels import sandbox
from publisher.channels.sandbox import Fault, SandboxResponse, SandboxService, register_sandbox, start_sandboxes


class Echo(SandboxService):
    name = "echo"
    hosts = ("", "upload")

    def handle(self, request):  # type: ignore[no-untyped-def]
        return SandboxResponse(200, {"host": request.host, "path": request.path, "form": request.form,
                                     "files": {k: len(v.data) for k, v in request.files.items()}})

    def settings_overrides(self):  # type: ignore[no-untyped-def]
        return {"echo_url": self.urls[""]}

    def demo_channels(self):  # type: ignore[no-untyped-def]
        return [{"kind": "echo", "name": "Echo", "settings": {}}]


def test_registry_hosts_and_faults(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sandbox, "SANDBOXES", {})
    monkeypatch.setattr(sandbox, "SANDBOX_MODULES", ["publisher.channels.sandbox.not_installed_yet"])
    register_sandbox("echo", Echo)
    running = start_sandboxes()
    try:
        assert set(running.urls) == {"echo", "echo_upload"}
        assert running.settings_overrides() == {"echo_url": running.urls["echo"]}
        assert running.demo_channels()[0]["kind"] == "echo"
        answer = requests.post(running.urls["echo_upload"] + "/x", data={"a": "b"}, files={"f": ("f", b"12345")},
                               timeout=5).json()
        assert answer == {"host": "upload", "path": "/x", "form": {"a": "b"}, "files": {"f": 5}}
        service = running["echo"]
        service.add_fault(Fault(path_prefix="/y", status=503, body={"e": 1}, skip=1, count=2))
        statuses = [requests.get(running.urls["echo"] + "/y", timeout=5).status_code for _ in range(4)]
        assert statuses == [200, 503, 503, 200]
        service.add_fault(Fault(path_prefix="/z", drop=True))
        try:
            requests.get(running.urls["echo"] + "/z", timeout=5)
            raise AssertionError("the connection should have been dropped")
        except requests.ConnectionError:
            pass
    finally:
        running.stop()
