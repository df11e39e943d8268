"""The registry's Atom feed (RFC 4287): one entry per lifecycle event in the log, its id fixed by the log index."""

from __future__ import annotations

import datetime as dt
import uuid
from xml.etree import ElementTree as ET

from portal.domain.registry.schemas import Change

ATOM = "http://www.w3.org/2005/Atom"
TITLES = {
    "issue": "issued",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "revoke": "revoked",
    "expire": "expired",
    "supersede": "superseded",
    "condition": "condition met",
}


def entry_id(origin: str, log_index: int) -> str:
    """The same URN for the same log entry forever: a name-based UUID of the log's origin and the index."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://{origin}#{log_index}").urn


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element


def atom_feed(changes: list[Change], *, issuer: str, origin: str, empty_since: dt.datetime) -> bytes:
    """The feed of ``changes`` (newest first). ``updated`` is the newest change's time, or ``empty_since``."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, f"https://{origin}#registry-feed").urn)
    _text(feed, "title", "Provider Attestation Portal: registry changes")
    _text(feed, "updated", _stamp(changes[0].at if changes else empty_since))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "Provider Attestation Portal")
    _text(author, "uri", f"{issuer}/registry")
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": f"{issuer}/registry/feed.atom"})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": f"{issuer}/registry", "type": "text/html"})
    for change in changes:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", entry_id(origin, change.log_index))
        what = TITLES.get(change.event, change.event)
        who = f" ({change.provider})" if change.provider else ""
        _text(entry, "title", f"{change.serial} {what}{who}")
        _text(entry, "updated", _stamp(change.at))
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": f"{issuer}/attestations/{change.serial}"})
        summary = [f"{change.serial}: {what} at {_stamp(change.at)}", f"log entry {change.log_index}"]
        if change.status:
            summary.append(f"status {change.status}")
        if change.reason:
            summary.append(f"reason {change.reason}")
        if change.until:
            summary.append(f"until {_stamp(change.until)}")
        if change.superseded_by:
            summary.append(f"superseded by {change.superseded_by}")
        _text(entry, "summary", "; ".join(summary))
        _text(entry, "category", "", term=change.event)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
