"""What the native launcher installs and configures, read from the project's own files: the
versions and the ClickHouse profile that docker-compose.yml and infra/k8s/ must agree with."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from infra.settings import ROOT


def kafka_version() -> str:
    return re.search(r"<kafka.version>([^<]+)<", (ROOT / "infra/kafka/pom.xml").read_text()).group(1)


def superset_version() -> str:
    return re.search(r"^apache-superset==(\S+)", (ROOT / "infra/superset/requirements.txt").read_text(), re.M).group(1)


def zookeeper_version() -> str:
    pom = (ROOT / "infra/zookeeper/pom.xml").read_text()
    return re.search(r"<artifactId>zookeeper</artifactId>\s*<version>([^<]+)<", pom).group(1)


def default_profile() -> ET.Element:
    """infra/clickhouse/users.xml's default profile (its ${…} placeholders filled with a stand-in)."""
    users = re.sub(r"\$\{\w+\}", "x", (ROOT / "infra/clickhouse/users.xml").read_text())
    return ET.fromstring(users).find("profiles/default")
