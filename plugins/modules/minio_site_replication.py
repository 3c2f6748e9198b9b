#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps MinIO site replication between the listed sites, adding what is missing, removing nothing."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_site_replication
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep MinIO site replication between several MinIO deployments
description:
  - Makes the MinIO deployments listed in O(sites) replicate each other (buckets, objects,
    users, policies, groups), as C(mc admin replicate add) does.
  - The module talks to the local site, O(site), at O(endpoint). It reads the site replication
    the local site has first and changes nothing when it already replicates with exactly the
    listed sites (same names and endpoints).
  - Without site replication, it sets it up with every listed site. With some of the sites
    configured, it adds the missing ones; MinIO requires a site it adds to hold no bucket.
  - It never removes a site. A configured site that is not listed, or one listed under another
    endpoint, makes the module fail without changing anything, saying what to do.
  - Before adding, it reads the deployment id of every listed site through that site's
    endpoint, and fails without changing anything when two entries reach one deployment (a
    site listed again under another name, the local site's included), or when the local
    entry's endpoint reaches another deployment than O(endpoint). Names, endpoints and the
    number of sites are checked before the module connects.
options:
  site:
    description:
      - The name of the local site, the entry of O(sites) that is the server at O(endpoint).
    type: str
    required: true
  sites:
    description:
      - Every site of the replication, the local one included; at least two. Names and
        endpoints are unique.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The site's name in the replication (shown by C(mc admin replicate info)); no white space.
        type: str
        required: true
      endpoint:
        description:
          - The URL the other sites reach this site at, such as V(https://10.0.0.2:9000); the
            module reaches it there too, with O(ca_file) and O(validate_certs).
        type: str
        required: true
      access_key:
        description: The access key of a user with admin rights on the site (its root user, usually).
        type: str
        required: true
      secret_key:
        description: The secret key of O(sites[].access_key).
        type: str
        required: true
extends_documentation_fragment:
  - selfhost.stack.minio
attributes:
  check_mode:
    description: Only reads (every listed site is read when a site is to be added); reports what it would add.
    support: full
  diff_mode:
    description: Shows whether site replication is on and its sites (names and endpoints) before and after.
    support: full
notes:
  - The keys of every site are sent to the local site, which passes them to the others, as
    C(mc admin replicate add) does; they are never part of the module's output.
"""

EXAMPLES = r"""
- name: Replicate MinIO between the primary and the standby
  selfhost.stack.minio_site_replication:
    site: primary
    sites:
      - name: primary
        endpoint: https://10.0.0.1:9000
        access_key: "{{ minio_root_user }}"
        secret_key: "{{ minio_root_password }}"
      - name: standby
        endpoint: https://10.0.0.2:9000
        access_key: "{{ hostvars['standby'].minio_root_user }}"
        secret_key: "{{ hostvars['standby'].minio_root_password }}"
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"
    ca_file: /etc/ssl/selfhost/ca.pem
  run_once: true
"""

RETURN = r"""
site:
  description: The local site's name.
  returned: always
  type: str
  sample: primary
sites:
  description:
    - The sites of the replication after the run (in check mode, as they would be), sorted by
      name; never their keys.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The site's name.
      type: str
    endpoint:
      description: The site's endpoint.
      type: str
    deployment_id:
      description: The site's deployment id; empty when the run did not read it.
      type: str
  sample: [{"name": "primary", "endpoint": "https://10.0.0.1:9000", "deployment_id": "41747976-95c5-4507-8462-0a2e8852eec0"}]
added:
  description: The names of the sites the run added (in check mode, would add); all of them when it set replication up.
  returned: always
  type: list
  elements: str
  sample: [standby]
actions:
  description: What the run did, or in check mode would do.
  returned: always
  type: list
  elements: str
  sample: ["add site replication between primary, standby"]
"""

import functools
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_rules

SITE_NAME_PATTERN = re.compile(r"^\S+$")


def validate(params):
    """Every problem of the module's input that needs no server; a key is never quoted."""
    errors, names, endpoints = [], {}, {}
    sites, local = params["sites"], params["site"]
    if len(sites) < 2:
        errors.append(f"sites must list at least two sites (the local one and a peer); it lists {len(sites)}")
    for index, entry in enumerate(sites):
        where = f"sites[{index}]"
        name = entry["name"]
        if not isinstance(name, str) or not SITE_NAME_PATTERN.fullmatch(name):
            errors.append(f"{where}: name {name!r} must be a non-empty name without white space")
        elif name in names:
            errors.append(f"{where}: name {name!r} is already given by sites[{names[name]}]")
        else:
            names[name] = index
        problem = minio_rules.endpoint_problem(entry["endpoint"], f"{where}: endpoint")
        if problem:
            errors.append(problem)
            continue
        endpoint = minio_rules.normalise_endpoint(entry["endpoint"])
        if endpoint in endpoints:
            errors.append(f"{where}: endpoint {entry['endpoint']!r} is already sites[{endpoints[endpoint]}]'s "
                          "(one deployment cannot be two sites)")
        else:
            endpoints[endpoint] = index
    if local not in names:
        errors.append(f"site {local!r} must be the name of one of sites (the server at endpoint)")
    elif minio_rules.endpoint_problem(params["endpoint"], "endpoint") is None:
        own = endpoints.get(minio_rules.normalise_endpoint(params["endpoint"]))
        if own is not None and sites[own]["name"] != local:
            errors.append(f"sites[{own}] ({sites[own]['name']!r}) has the endpoint the module connects to, which is "
                          f"the local site {local!r}: a site cannot be its own peer under another name")
    return errors


def site_view(entry, deployment_id=""):
    """A site as the module returns it: never its keys."""
    return dict(name=entry["name"], endpoint=entry["endpoint"], deployment_id=deployment_id)


def configured_sites(info):
    """The sites of the server's site replication, by name; {} when it has none."""
    if not info.get("enabled"):
        return {}
    return {site["name"]: site_view(site, site.get("deploymentID", "")) for site in info.get("sites") or []}


def check_configured(params, info, configured):
    """Fails when the configured replication is not a part of the wanted one: the module removes
    and edits nothing."""
    local, wanted = params["site"], {entry["name"]: entry for entry in params["sites"]}
    if configured and info.get("name") != local:
        raise minio_utils.Failure(f"the server at {params['endpoint']} is site {info.get('name')!r} of its site "
                                  f"replication, not {local!r}; set site (and its entry in sites) to that name; "
                                  "nothing was changed")
    extra = sorted(set(configured) - set(wanted))
    if extra:
        raise minio_utils.Failure(
            "site replication has sites that sites does not list: "
            + ", ".join(f"{name} ({configured[name]['endpoint']})" for name in extra)
            + "; this module never removes a "
            "site: list them in sites, or remove them yourself (mc admin replicate rm) first; nothing was changed")
    moved = sorted(name for name in set(configured) & set(wanted)
                   if minio_rules.normalise_endpoint(configured[name]["endpoint"])
                   != minio_rules.normalise_endpoint(wanted[name]["endpoint"]))
    if moved:
        raise minio_utils.Failure(
            "sites lists configured sites under other endpoints: " + ", ".join(
                f"{name} (configured {configured[name]['endpoint']}, listed {wanted[name]['endpoint']})"
                for name in moved)
            + "; this module does not change a site's endpoint: list the configured one, or change it yourself "
              "(mc admin replicate update) first; nothing was changed")


def deployment_ids(connection, params, local_id):
    """Each listed site's deployment id, read through its own endpoint; fails when two entries
    reach one deployment or the local entry reaches another one than the module's endpoint."""
    found, by_id = {}, {}
    for entry in params["sites"]:
        peer = connection.peer(entry["endpoint"], entry["access_key"], entry["secret_key"])
        info = peer.admin_json(f"read the server information of site {entry['name']}", peer.admin.info)
        deployment_id = info.get("deploymentID", "")
        found[entry["name"]] = deployment_id
        if entry["name"] == params["site"] and deployment_id != local_id:
            raise minio_utils.Failure(
                f"site {entry['name']!r}'s endpoint {entry['endpoint']} reaches deployment {deployment_id}, not the "
                f"server at {params['endpoint']} ({local_id}); the local site's entry must be that server; nothing "
                "was changed")
        if deployment_id in by_id:
            other = by_id[deployment_id]
            local_note = " (the local site)" if params["site"] in (other, entry["name"]) else ""
            raise minio_utils.Failure(
                f"sites {other!r} and {entry['name']!r} are one deployment ({deployment_id}){local_note} under two "
                "names; a site cannot be its own peer: list each deployment once; nothing was changed")
        by_id[deployment_id] = entry["name"]
    return found


def logic(module, connection, result):
    params, admin = module.params, connection.admin
    local = params["site"]
    info = connection.admin_json("read the site replication", admin.get_site_replication_info)
    configured = configured_sites(info)
    result["diff"] = dict(before=diff_view(configured))
    check_configured(params, info, configured)
    missing = [entry["name"] for entry in params["sites"] if entry["name"] not in configured]
    if not missing:
        result["sites"] = sorted(configured.values(), key=lambda site: site["name"])
        result["diff"]["after"] = result["diff"]["before"]
        return
    local_id = connection.admin_json("read the server information", admin.info).get("deploymentID", "")
    found = deployment_ids(connection, params, local_id)
    # The local site first: MinIO sets replication up from the first site it is given.
    ordered = sorted(params["sites"], key=lambda entry: entry["name"] != local)
    peers = [minio_utils.PeerSite(name=entry["name"], endpoint=entry["endpoint"], access_key=entry["access_key"],
                                  secret_key=entry["secret_key"]) for entry in ordered]
    result["added"] = missing
    verb = "add sites " + ", ".join(missing) + " to site replication" if configured else "set up site replication"
    minio_utils.apply(module, connection, [(f"{verb} between {', '.join(entry['name'] for entry in ordered)}",
                                            functools.partial(admin.add_site_replication, peers))], result)
    if module.check_mode:
        after = {entry["name"]: site_view(entry, found[entry["name"]]) for entry in params["sites"]}
    else:
        after = configured_sites(connection.admin_json("read the site replication", admin.get_site_replication_info))
    result["sites"] = sorted(after.values(), key=lambda site: site["name"])
    result["diff"]["after"] = diff_view(after)


def diff_view(sites):
    """Site replication as the diff shows it: on or off, and its sites' names and endpoints."""
    return dict(enabled=bool(sites), sites={name: site["endpoint"] for name, site in sorted(sites.items())})


def main():
    argument_spec = dict(
        site=dict(type="str", required=True),
        sites=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            endpoint=dict(type="str", required=True),
            access_key=dict(type="str", required=True, no_log=False),
            secret_key=dict(type="str", required=True, no_log=True),
        )),
    )
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    minio_utils.check_input(module, validate(module.params))
    result = dict(changed=False, actions=[], site=module.params["site"], sites=[], added=[])
    minio_utils.run(module, logic, result)


if __name__ == "__main__":
    main()
