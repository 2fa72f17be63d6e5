"""Each rule's resources have one source of truth: the rule itself, never a profile."""

import re

import yaml
from conftest import REPO

RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", re.S | re.M)


def _local_rules() -> set[str]:
    names = set()
    for smk in (REPO / "rules").glob("*.smk"):
        for block in re.findall(r"^localrules:\n((?:\s+\w+,\n)+)", smk.read_text(), re.M):
            names |= set(re.findall(r"(\w+),", block))
    return names


def test_profiles_set_no_resources_of_their_own():
    for path in sorted((REPO / "profiles").glob("*/config.yaml")):
        settings = yaml.safe_load(path.read_text())
        assert not {"set-resources", "set-threads", "set-resource-scopes"} & set(settings), path
        assert set(settings.get("default-resources", {})) <= {"slurm_partition", "slurm_account"}, path


def test_every_rule_that_runs_on_a_node_declares_its_memory_and_runtime():
    local = _local_rules()
    assert local, "no localrules found: the parser is out of date"
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for name, body in RULE.findall(smk.read_text()):
            if "script:" in body and name not in local:
                assert "mem_mb=" in body and "runtime=" in body, f"{smk.name}: rule {name} declares no mem_mb/runtime"


def test_the_site_profile_template_names_what_a_site_must_fill_in():
    template = yaml.safe_load((REPO / "profiles" / "slurm-site" / "config.yaml").read_text())
    assert template["executor"] == "slurm"
    assert template["default-resources"] == {"slurm_partition": "<partition>", "slurm_account": "<account>"}
    workflow = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert "executor" not in workflow and set(workflow["groups"]) <= {
        name for smk in (REPO / "rules").glob("*.smk") for name, _ in RULE.findall(smk.read_text())
    }
