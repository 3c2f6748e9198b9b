#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a PostgreSQL cluster's roles, databases, function grants, physical replication slots
and versioned functions, reading the whole state in a constant number of queries."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_objects
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep a PostgreSQL cluster's roles, databases, grants, slots and versioned functions
description:
  - Makes sure that the listed roles exist with the listed attributes and password, the listed
    databases exist with their owner, the listed roles may run the listed functions, the listed
    physical replication slots exist, and every listed database holds each of O(database_functions)
    at its version.
  - Reads all of it in a constant number of queries (one more per database for its functions),
    then runs only the statements that change something, so that a cluster that needs nothing
    costs one module run (role selfhost.stack.postgresql on its primary).
  - Adds, never takes away - a role keeps attributes it has beyond the listed ones, and nothing
    unlisted (a role, a database, a slot) is dropped.
  - Refuses, before any change, a database that exists with another encoding, a function that
    does not exist, and a slot name that a logical slot has.
  - A password is compared with the stored SCRAM-SHA-256 or MD5 secret, and a new one is sent
    already hashed (with the server's C(password_encryption)), so that it is never in the
    server's log or in the statements returned.
options:
  roles:
    description: The roles to keep.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role's name.
        type: str
        required: true
      password:
        description: Its password; not given or empty, the password is left as it is.
        type: str
      attributes:
        description: The attributes it must have; it keeps others it has.
        type: list
        elements: str
        choices: [LOGIN, REPLICATION, CREATEDB, CREATEROLE]
        default: [LOGIN]
  databases:
    description: The databases to keep.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The database's name.
        type: str
        required: true
      owner:
        description: Its owner, a role that exists or is in O(roles).
        type: str
        default: postgres
      encoding:
        description: Its encoding when it is created; an existing database with another is refused.
        type: str
        default: UTF8
  function_grants:
    description: Functions that roles may run (C(EXECUTE)), in the database the module connects to.
    type: list
    elements: dict
    default: []
    suboptions:
      role:
        description: The role that gets the grant.
        type: str
        required: true
      functions:
        description: The functions, with their argument types, such as C(pg_catalog.pg_ls_dir(text, boolean, boolean)).
        type: list
        elements: str
        required: true
  replication_slots:
    description: Physical replication slots to keep, made with their WAL position reserved at once.
    type: list
    elements: str
    default: []
  database_functions:
    description:
      - Functions every database of O(databases) must hold at a version, which is the function's
        comment. Where the comment is another, or the function is missing, O(database_functions[].script)
        runs in that database, in one transaction; it must set the comment to the version.
    type: list
    elements: dict
    default: []
    suboptions:
      signature:
        description: The function, with its argument types, such as C(pgbouncer.user_lookup(text)).
        type: str
        required: true
      version:
        description: The comment the current function carries.
        type: str
        required: true
      script:
        description: The SQL that makes the current function (and its comment).
        type: str
        required: true
  settings:
    description:
      - Settings the server keeps with C(ALTER SYSTEM) (in C(postgresql.auto.conf)), by name, each
        compared with the file's own value and set only when it differs. This also works on a
        standby, where it is the only option to give (such as C(primary_conninfo)). Notify a
        reload when one changes.
    type: dict
    default: {}
  login_db:
    description: The database the module connects to first; O(function_grants) apply in it.
    type: str
    default: postgres
  login_user:
    description: The role the module connects as; a superuser.
    type: str
    default: postgres
extends_documentation_fragment:
  - selfhost.stack.postgresql
attributes:
  check_mode:
    description: Only reads; returns the statements it would run.
    support: full
  diff_mode:
    description: Shows the roles' attributes, the databases' owners, the grants, the slots and the functions' versions before and after; never a password.
    support: full
"""

EXAMPLES = r"""
- name: Keep the primary's roles, databases and slots
  selfhost.stack.postgresql_objects:
    roles:
      - {name: replicator, password: "{{ vault_replication_password }}", attributes: [LOGIN, REPLICATION]}
      - {name: app, password: "{{ vault_app_password }}"}
    databases:
      - {name: app, owner: app}
    function_grants:
      - {role: replicator, functions: ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]}
    replication_slots: [standby]
  become: true
  become_user: postgres
  no_log: true
"""

RETURN = r"""
queries:
  description: The statements run (or, in check mode, that would run), a password shown as C(********).
  returned: always
  type: list
  elements: str
  sample: ["CREATE ROLE \"app\" WITH LOGIN PASSWORD '********'", "CREATE DATABASE \"app\" OWNER \"app\" ENCODING 'UTF8'"]
"""

import base64
import hashlib
import hmac
import re
import stringprep
import unicodedata

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils.postgresql import (
    connect,
    connection_argument_spec,
    ensure_psycopg,
    psycopg,
    sql,
)

ATTRIBUTES = {"LOGIN": "rolcanlogin", "REPLICATION": "rolreplication", "CREATEDB": "rolcreatedb",
              "CREATEROLE": "rolcreaterole"}
# PostgreSQL's rule for a replication slot's name.
SLOT_NAME = re.compile(r"^[a-z0-9_]{1,63}$")
# A setting's name (a custom one has a dot).
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*([.][a-z_][a-z0-9_]*)?$")
MASK = "********"


# --- passwords -------------------------------------------------------------------------------------

def saslprep(password):
    """The password as PostgreSQL hashes it for SCRAM (RFC 4013 SASLprep); the password itself
    when it is ASCII or when SASLprep refuses it, as the server does."""
    if password.isascii():
        return password
    mapped = "".join(" " if stringprep.in_table_c12(char) else char
                     for char in password if not stringprep.in_table_b1(char))
    normal = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3, stringprep.in_table_c4,
                  stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9, stringprep.in_table_a1)
    if not normal or any(check(char) for char in normal for check in prohibited):
        return password
    return normal


def password_matches(stored, name, password):
    """Whether the secret pg_authid stores (SCRAM-SHA-256 or MD5) is that of password."""
    if not stored:
        return False
    scram = re.match(r"^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$", stored)
    if scram:
        iterations, salt, stored_key, server_key = scram.groups()
        salted = hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), base64.b64decode(salt), int(iterations))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        return (hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key))
                and hmac.compare_digest(hmac.new(salted, b"Server Key", hashlib.sha256).digest(),
                                        base64.b64decode(server_key)))
    if stored.startswith("md5"):
        return hmac.compare_digest(stored, "md5" + hashlib.md5((password + name).encode()).hexdigest())
    return False


# --- reading -------------------------------------------------------------------------------------

ROLES_QUERY = """SELECT rolname, rolcanlogin, rolreplication, rolcreatedb, rolcreaterole, rolpassword
FROM pg_authid WHERE rolname = ANY (%s)"""
DATABASES_QUERY = """SELECT datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding)
FROM pg_database WHERE datname = ANY (%s)"""
# What ALTER SYSTEM wrote, in the order PostgreSQL reads it (the last line of a name wins).
SETTINGS_QUERY = """SELECT name, setting FROM pg_file_settings
WHERE sourcefile ~ '/postgresql[.]auto[.]conf$' AND name = ANY (%s) ORDER BY seqno"""
SLOTS_QUERY = "SELECT slot_name, slot_type FROM pg_replication_slots WHERE slot_name = ANY (%s)"
# The function as the server writes it (quoted as needed), and whether the role may run it.
GRANTS_QUERY = """SELECT g.role, g.function, to_regprocedure(g.function)::text,
  r.oid IS NOT NULL AND to_regprocedure(g.function) IS NOT NULL
  AND has_function_privilege(r.oid, to_regprocedure(g.function), 'EXECUTE')
FROM unnest(%s::text[], %s::text[]) AS g(role, function) LEFT JOIN pg_roles r ON r.rolname = g.role"""
VERSIONS_QUERY = "SELECT s, obj_description(to_regprocedure(s), 'pg_proc') FROM unnest(%s::text[]) AS s"


def grant_columns(params):
    """The roles and the functions of function_grants, one pair per function, as two columns."""
    pairs = [(grant["role"], function) for grant in params["function_grants"] for function in grant["functions"]]
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def read_state(connection, params, connect_to):
    """What the cluster has of what params lists: four queries, one more with settings, and one per
    existing database when database_functions is given."""
    names = sorted({role["name"] for role in params["roles"]} | {database["owner"] for database in params["databases"]}
                   | {grant["role"] for grant in params["function_grants"]})
    state = {"roles": {}, "databases": {}, "slots": {}, "grants": [], "versions": {}, "settings": {}}
    with connection.cursor() as cursor:
        for row in cursor.execute(ROLES_QUERY, (names,)).fetchall():
            state["roles"][row[0]] = dict(zip(("rolcanlogin", "rolreplication", "rolcreatedb", "rolcreaterole",
                                               "rolpassword"), row[1:]))
        for name, owner, encoding in cursor.execute(DATABASES_QUERY, ([d["name"] for d in params["databases"]],)):
            state["databases"][name] = {"owner": owner, "encoding": encoding}
        for name, kind in cursor.execute(SLOTS_QUERY, (params["replication_slots"],)):
            state["slots"][name] = kind
        for role, function, procedure, granted in cursor.execute(GRANTS_QUERY, grant_columns(params)):
            state["grants"].append({"role": role, "function": function, "procedure": procedure, "granted": granted})
        if params["settings"]:
            state["settings"] = dict(cursor.execute(SETTINGS_QUERY, (sorted(params["settings"]),)).fetchall())
    signatures = [function["signature"] for function in params["database_functions"]]
    for name in state["databases"] if signatures else ():
        with connect_to(name) as database, database.cursor() as cursor:
            for signature, version in cursor.execute(VERSIONS_QUERY, (signatures,)):
                state["versions"][(name, signature)] = version
    return state


# --- the plan --------------------------------------------------------------------------------------

def validate(params):
    """The input's mistakes, one sentence each, naming the entry."""
    errors = []
    for index, slot in enumerate(params["replication_slots"]):
        if not SLOT_NAME.match(slot):
            errors.append(f"replication_slots[{index}]: {slot!r} is not a slot name (lower-case letters, digits "
                          "and underscores, at most 63)")
    for name in params["settings"]:
        if not SETTING_NAME.match(name):
            errors.append(f"settings: {name!r} is not a setting's name")
    for option, key in (("roles", "name"), ("databases", "name"), ("database_functions", "signature")):
        names = [entry[key] for entry in params[option]]
        for name in sorted({name for name in names if names.count(name) > 1}):
            errors.append(f"{option}: {name!r} is listed more than once")
    return errors


def normal_encoding(name):
    """UTF-8, utf8 and UTF8 name the same encoding."""
    return name.upper().replace("-", "").replace("_", "")


def plan(params, state):
    """The changes that bring the cluster to params, in the order they must run, and the refusals.
    A change is a tuple: its kind, then what it needs."""
    changes, refusals = [], []
    listed_roles = {role["name"] for role in params["roles"]}
    for role in params["roles"]:
        found = state["roles"].get(role["name"])
        attributes = [name for name in role["attributes"] if found is None or not found[ATTRIBUTES[name]]]
        password = bool(role["password"]) and (
            found is None or not password_matches(found["rolpassword"], role["name"], role["password"]))
        if found is None or attributes or password:
            changes.append(("role", role["name"], found is not None, attributes, role["password"] if password else None))
    for index, database in enumerate(params["databases"]):
        if database["owner"] not in state["roles"] and database["owner"] not in listed_roles:
            refusals.append(f"databases[{index}]: owner {database['owner']!r} is not a role of the cluster, nor in roles")
        found = state["databases"].get(database["name"])
        if found is None:
            changes.append(("database", database["name"], database["owner"], database["encoding"]))
            continue
        if normal_encoding(found["encoding"]) != normal_encoding(database["encoding"]):
            refusals.append(f"databases[{index}]: {database['name']!r} has encoding {found['encoding']}, not "
                            f"{database['encoding']}, which PostgreSQL cannot change (dump it into a new database)")
        if found["owner"] != database["owner"]:
            changes.append(("owner", database["name"], database["owner"]))
    for grant in state["grants"]:
        if grant["procedure"] is None:
            refusals.append(f"function_grants: no function {grant['function']} in database {params['login_db']!r}")
        elif grant["role"] not in state["roles"] and grant["role"] not in listed_roles:
            refusals.append(f"function_grants: {grant['role']!r} is not a role of the cluster, nor in roles")
        elif not grant["granted"]:
            changes.append(("grant", grant["role"], grant["procedure"]))
    for slot in params["replication_slots"]:
        if state["slots"].get(slot) == "logical":
            refusals.append(f"replication_slots: {slot!r} is the name of a logical slot")
        elif slot not in state["slots"]:
            changes.append(("slot", slot))
    for database in params["databases"]:
        for function in params["database_functions"]:
            if state["versions"].get((database["name"], function["signature"])) != function["version"]:
                changes.append(("function", database["name"], function["signature"], function["script"],
                                function["version"]))
    for name, value in sorted(params["settings"].items()):
        if state["settings"].get(name) != str(value):
            changes.append(("setting", name, str(value)))
    return changes, refusals


def describe(change, state):
    """A change in words, for the diff: what it is about, what it was, and what it becomes."""
    kind = change[0]
    if kind == "role":
        name, exists, attributes, password = change[1:]
        found = state["roles"].get(name)
        had = [attribute for attribute, column in ATTRIBUTES.items() if found and found[column]]
        after = sorted(set(had) | set(attributes))
        before = (", ".join(had) or "no attribute") if exists else "absent"
        return f"role {name}", before, ", ".join(after) + (", a new password" if password else "")
    if kind == "database":
        return f"database {change[1]}", "absent", f"owned by {change[2]}, encoding {change[3]}"
    if kind == "owner":
        return f"database {change[1]}", f"owned by {state['databases'][change[1]]['owner']}", f"owned by {change[2]}"
    if kind == "grant":
        return f"function {change[2]}", f"{change[1]} may not run it", f"{change[1]} may run it"
    if kind == "slot":
        return f"replication slot {change[1]}", "absent", "physical, its WAL position reserved"
    if kind == "setting":
        return f"setting {change[1]}", state["settings"].get(change[1], "not set by ALTER SYSTEM"), change[2]
    found = state["versions"].get((change[1], change[2]))
    return f"function {change[2]} in database {change[1]}", found or "absent or without a version", change[4]


# --- writing -------------------------------------------------------------------------------------

def compose(change, context, encrypt):
    """The statement of a change: (query, how it is shown, the database it runs in or None).
    context quotes names (the connection); encrypt(password, role) hashes a password as the
    server wants it."""
    kind = change[0]
    if kind == "role":
        name, exists, attributes, password = change[1:]
        words = [sql.SQL(attribute) for attribute in attributes]  # names from ATTRIBUTES only
        shown_words = list(words)
        if password is not None:
            words += [sql.SQL("PASSWORD"), sql.Literal(encrypt(password, name))]
            shown_words += [sql.SQL("PASSWORD"), sql.SQL(f"'{MASK}'")]
        head = sql.SQL("{} {}").format(sql.SQL("ALTER ROLE" if exists else "CREATE ROLE"), sql.Identifier(name))

        def statement(parts):
            return sql.SQL("{} WITH {}").format(head, sql.SQL(" ").join(parts)) if parts else head

        return statement(words), statement(shown_words).as_string(context), None
    if kind == "database":
        query = sql.SQL("CREATE DATABASE {} OWNER {} ENCODING {}").format(
            sql.Identifier(change[1]), sql.Identifier(change[2]), sql.Literal(change[3]))
    elif kind == "owner":
        query = sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(change[1]), sql.Identifier(change[2]))
    elif kind == "grant":
        # The function as the server itself wrote it (to_regprocedure), not as the input did.
        query = sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(sql.SQL(change[2]), sql.Identifier(change[1]))
    elif kind == "slot":
        query = sql.SQL("SELECT pg_create_physical_replication_slot({}, true)").format(sql.Literal(change[1]))
    elif kind == "setting":
        query = sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(change[1]), sql.Literal(change[2]))
    else:
        return sql.SQL(change[3]), f"-- in database {change[1]}: the script of {change[2]}", change[1]
    return query, query.as_string(context), None


def main():
    argument_spec = dict(
        roles=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            password=dict(type="str", no_log=True),
            attributes=dict(type="list", elements="str", choices=list(ATTRIBUTES), default=["LOGIN"]),
        )),
        databases=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            owner=dict(type="str", default="postgres"),
            encoding=dict(type="str", default="UTF8"),
        )),
        function_grants=dict(type="list", elements="dict", default=[], options=dict(
            role=dict(type="str", required=True),
            functions=dict(type="list", elements="str", required=True),
        )),
        replication_slots=dict(type="list", elements="str", default=[]),
        database_functions=dict(type="list", elements="dict", default=[], options=dict(
            signature=dict(type="str", required=True),
            version=dict(type="str", required=True),
            script=dict(type="str", required=True),
        )),
        settings=dict(type="dict", default={}),
        login_db=dict(type="str", default="postgres"),
    )
    argument_spec.update(connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    errors = validate(params)
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)
    ensure_psycopg(module)

    def connect_to(database):
        connection = connect(module, database)
        connection.autocommit = True
        return connection

    queries = []
    with connect_to(params["login_db"]) as connection:
        def encrypt(password, role):
            """Hashed here, with the server's password_encryption: the server never sees the password."""
            return connection.pgconn.encrypt_password(password.encode(), role.encode()).decode()

        try:
            state = read_state(connection, params, connect_to)
        except psycopg.Error as error:
            module.fail_json(msg=f"reading the cluster's state failed: {str(error).strip()}")
        changes, refusals = plan(params, state)
        if refusals:
            module.fail_json(msg="; ".join(refusals), errors=refusals)
        for change in changes:
            query, shown, database = compose(change, connection, encrypt)
            queries.append(shown)
            if module.check_mode:
                continue
            try:
                if database is None:
                    connection.execute(query)
                else:
                    with connect_to(database) as target, target.transaction():
                        target.execute(query)
            except psycopg.Error as error:
                module.fail_json(msg=f"{shown}: {str(error).strip()}", queries=queries)
    result = dict(changed=bool(changes), queries=queries)
    if module._diff and changes:
        described = [describe(change, state) for change in changes]
        result["diff"] = dict(before="".join(f"{entry[0]}: {entry[1]}\n" for entry in described),
                              after="".join(f"{entry[0]}: {entry[2]}\n" for entry in described))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
