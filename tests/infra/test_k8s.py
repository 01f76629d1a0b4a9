"""infra/k8s/ in the unit tier: every core object valid against Kubernetes' own schemas
(kubernetes-validate, strict, offline), and the operators' objects agreeing with what the
platform's settings and configs say (infra/k8s/README.md says why their CRDs are not vendored)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import kubernetes_validate
import pytest
import yaml

from infra.settings import ENV, ROOT, Settings, load
from tests.infra import native

K8S = ROOT / "infra" / "k8s"
KUBERNETES = "1.35.0"
DOCS = [(path.name, doc) for path in sorted(K8S.glob("*.yaml")) if path.name != "superset-values.yaml"
        for doc in yaml.safe_load_all(path.read_text()) if doc]
CORE = [(name, doc) for name, doc in DOCS if "." not in doc["apiVersion"].split("/")[0] or
        doc["apiVersion"].split("/")[0].endswith(".k8s.io")]


def one(kind: str) -> dict:
    found = [doc for _, doc in DOCS if doc["kind"] == kind]
    assert len(found) == 1, (kind, len(found))
    return found[0]


@pytest.mark.parametrize("name,doc", CORE, ids=[f"{n}:{d['kind']}/{d['metadata']['name']}" for n, d in CORE])
def test_each_core_object_is_valid_for_kubernetes(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_core_objects_are_checked_and_a_wrong_one_is_refused():
    assert {d["kind"] for _, d in CORE} >= {"ConfigMap", "Job", "Deployment", "PodDisruptionBudget", "Service"}
    broken = {**one("Service"), "spec": {"ports": [{"port": "http"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


@pytest.fixture
def configured(monkeypatch) -> Settings:
    """The settings the pods get from the ConfigMap (read from the environment, as in a pod)."""
    data = one("ConfigMap")["data"]
    unknown = set(data) - set(ENV)
    assert not unknown, f"the ConfigMap sets variables infra/settings.py does not read: {sorted(unknown)}"
    for name, value in data.items():
        monkeypatch.setenv(name, value)
    return load()


def test_kafka_is_three_kraft_nodes_with_the_topic_settings_of_the_native_cluster(configured):
    pool, kafka = one("KafkaNodePool"), one("Kafka")
    settings = configured
    assert pool["spec"]["replicas"] == len(settings.kafka_brokers) == settings.topic_replicas == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    properties = (ROOT / "infra/kafka/cluster-broker.properties").read_text().splitlines()
    brokers = dict(line.split("=", 1) for line in properties if "=" in line and not line.startswith("#"))
    config = kafka["spec"]["kafka"]["config"]
    for key in ("min.insync.replicas", "unclean.leader.election.enable", "default.replication.factor"):
        assert str(config[key]).lower() == brokers[key].strip().lower(), key
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    # the ConfigMap names each broker by Strimzi's naming: <cluster>-<pool>-<id>.<cluster>-kafka-brokers
    cluster, name = kafka["metadata"]["name"], pool["metadata"]["name"]
    assert [b.host for b in settings.kafka_brokers] == \
        [f"{cluster}-{name}-{n}.{cluster}-kafka-brokers" for n in range(3)]


def test_clickhouse_is_the_settings_shards_and_replicas_each_named_by_the_operator(configured):
    chi = one("ClickHouseInstallation")
    settings = configured
    (cluster,) = chi["spec"]["configuration"]["clusters"]
    assert cluster["name"] == Settings.CLUSTER_NAME
    assert (cluster["layout"]["shardsCount"], cluster["layout"]["replicasCount"]) == \
        (settings.cluster_shards, settings.cluster_replicas)
    names = [f"chi-{chi['metadata']['name']}-{cluster['name']}-{n.shard - 1}-{n.replica - 1}"
             for n in settings.clickhouse_nodes]
    assert [n.host for n in settings.clickhouse_nodes] == names


def test_clickhouse_profile_settings_are_those_of_users_xml():
    profiles = one("ClickHouseInstallation")["spec"]["configuration"]["profiles"]
    default = native.default_profile()
    for key, value in profiles.items():
        profile, setting = key.split("/", 1)
        assert profile == "default"
        assert default.findtext(setting) == str(value), setting
    for setting in ("distributed_product_mode", "max_replica_delay_for_distributed_queries",
                    "fallback_to_stale_replicas_for_distributed_queries"):
        assert f"default/{setting}" in profiles, setting


def test_the_session_timeout_is_the_native_clusters():
    zookeeper = one("ClickHouseInstallation")["spec"]["configuration"]["zookeeper"]
    template = (ROOT / "infra/clickhouse/cluster.xml").read_text()
    cluster_xml = ET.fromstring(re.sub(r"<\$\{\w+\}>|</\$\{\w+\}>|\$\{\w+\}", "", template))
    assert str(zookeeper["session_timeout_ms"]) == cluster_xml.findtext("zookeeper/session_timeout_ms")


def test_superset_is_the_version_the_launcher_installs_and_no_secret_is_written_down():
    values = yaml.safe_load((K8S / "superset-values.yaml").read_text())
    assert values["image"]["tag"] == native.superset_version()
    for path in K8S.glob("*.yaml"):
        # a key naming a password may only point at the secret drama-secrets
        written = re.findall(r"(?im)^\s*[\w/]*password\w*:\s*(?!drama-secrets/)(\S+)", path.read_text())
        assert not written, f"{path.name} holds a password: {written}"
