"""The worker's adapter pool: one client per channel reused across batches, never shared by two threads at once,
and made anew once the channel changed (new tokens, refreshed secrets)."""

from __future__ import annotations

from publisher.db import db
from publisher.scheduler.pipeline import AdapterPool


def test_reused_after_checkin_never_handed_out_twice_and_renewed_when_the_channel_changes(app, settings,
                                                                                          make_channel):  # type: ignore[no-untyped-def]
    pool = AdapterPool()
    channel = make_channel()
    key = AdapterPool.key(channel)
    first = pool.checkout(key, settings)
    second = pool.checkout(key, settings)
    assert first is not second  # two deliveries of one channel in flight at once
    pool.checkin(key, first)
    assert pool.checkout(key, settings) is first

    pool.checkin(key, first)
    channel.name = "Kênh đã đổi"  # any change to the channel row moves its updated_at
    db.session.commit()
    changed = AdapterPool.key(channel)
    assert changed != key
    assert pool.checkout(changed, settings) is not first
    pool.checkin(changed, second)
    assert pool.checkout(key, settings) is not first  # the old channel's adapters were dropped


def test_adapters_sessions_read_the_environment_per_call_only_where_a_proxy_or_netrc_is_configured(  # type: ignore[no-untyped-def]
        monkeypatch, tmp_path):
    from publisher.channels.base import http_session

    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert http_session().trust_env is False
    # A private CA: read once, as the session's own setting (what requests would pick on every call).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/loa/ca.pem")
    session = http_session()
    assert session.trust_env is False and session.verify == "/etc/loa/ca.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/loa/curl-ca.pem")
    assert http_session().verify == "/etc/loa/curl-ca.pem"
    # A .netrc file or a proxy: requests reads the environment per call (NO_PROXY is decided per URL).
    (tmp_path / ".netrc").write_text("machine graph.facebook.com login x password y\n")
    assert http_session().trust_env is True
    (tmp_path / ".netrc").unlink()
    assert http_session().trust_env is False
    monkeypatch.setenv("https_proxy", "http://proxy.congdoan.local:3128")
    assert http_session().trust_env is True
