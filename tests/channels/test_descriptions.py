"""Each adapter describes itself; the registry hands the descriptions out, and a variant is checked against them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from publisher.channels.base import REGISTRY, description, descriptions
from publisher.channels.description import MEASURES, ChannelDescription, check_variant, tags_length


def test_every_registered_adapter_describes_its_own_kind() -> None:
    described = descriptions()
    assert {"website", "facebook", "youtube"} <= set(described)
    for kind, desc in described.items():
        assert isinstance(desc, ChannelDescription)
        assert desc.kind == kind == REGISTRY[kind].kind
        assert str(desc.label)
        assert desc.metrics_batch_size > 0
        assert set(desc.required_settings) <= {f.name for f in desc.connect_fields}
        assert desc.as_json()["kind"] == kind


def test_limits_are_the_adapters_own() -> None:
    from publisher.channels import facebook, youtube

    assert description("facebook").limits()["facebook.message"] == facebook.MESSAGE_MAX == 63206
    assert description("youtube").variant_field("description").max_length == youtube.DESCRIPTION_MAX_BYTES
    assert description("youtube").variant_field("description").count == "bytes"


def test_measures_the_platform_does_not_give_are_not_available() -> None:
    assert "shares" in description("youtube").metrics.not_available
    assert description("facebook").metrics.not_available == ()
    assert set(description("website").metrics.not_available) == set(MEASURES) - {"views", "comments"}


def test_check_variant_counts_as_the_field_says(app) -> None:
    with app.test_request_context():
        yt = description("youtube")
        cleaned, problems = check_variant(yt, {"description": "ệ" * 1700, "tags": [" a b ", ""], "x": 1}, _l)
        fields = [name for name, _ in problems]
        assert fields == ["x", "description"]  # 1,700 × 3 bytes > 5,000 bytes, though only 1,700 characters
        assert "5000" in str(problems[1][1])
        assert cleaned["tags"] == ["a b"] and tags_length(cleaned["tags"]) == 5
        _, problems = check_variant(yt, {"title": "a<b", "privacy": "secret"}, _l)
        assert [name for name, _ in problems] == ["title", "privacy"]
