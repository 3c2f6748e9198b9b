"""Unit tests for the files module, on files under a temporary path, owned by the user running them."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.selfhost.stack.plugins.modules import files

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def mine(**spec):
    """A file or directory spec owned by whoever runs the tests."""
    return {"owner": ME, "group": MY_GROUP, **spec}


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_new_directories_and_files_are_made_with_their_modes(run_module, tmp_path):
    drop_in = tmp_path / "chrony.service.d"
    result = run_module(files, {
        "directories": [mine(path=str(drop_in), mode="0750")],
        "files": [mine(dest=str(drop_in / "selfhost.conf"), content="[Service]\nNice=-5\n"),
                  mine(dest=str(tmp_path / "secret"), content="key\n", mode="0600")],
    })
    assert result["changed"] is True
    assert result["changed_paths"] == [str(drop_in), str(drop_in / "selfhost.conf"), str(tmp_path / "secret")]
    assert (drop_in / "selfhost.conf").read_text() == "[Service]\nNice=-5\n"
    assert (mode_of(drop_in), mode_of(drop_in / "selfhost.conf"), mode_of(tmp_path / "secret")) == (0o750, 0o644, 0o600)
    assert result["diff"] == [
        {"before_header": str(drop_in / "selfhost.conf"), "after_header": str(drop_in / "selfhost.conf"),
         "before": "", "after": "[Service]\nNice=-5\n"},
        {"before_header": str(tmp_path / "secret"), "after_header": str(tmp_path / "secret"),
         "before": "", "after": "key\n"},
    ]


def test_a_second_run_changes_nothing_and_reports_no_diff(run_module, tmp_path):
    arguments = {"directories": [mine(path=str(tmp_path / "d"))],
                 "files": [mine(dest=str(tmp_path / "d" / "f"), content="same\n")]}
    run_module(files, arguments)
    before = (tmp_path / "d" / "f").stat().st_ino
    result = run_module(files, arguments)
    assert result == {"changed": False, "changed_paths": [], "diff": [], "invocation": result["invocation"]}
    assert (tmp_path / "d" / "f").stat().st_ino == before


def test_only_the_file_that_differs_is_written(run_module, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_module(files, {"files": [mine(dest=str(one), content="1\n"), mine(dest=str(two), content="2\n")]})
    untouched = one.stat().st_ino
    result = run_module(files, {"files": [mine(dest=str(one), content="1\n"), mine(dest=str(two), content="2, new\n")]})
    assert result["changed_paths"] == [str(two)]
    assert result["diff"] == [{"before_header": str(two), "after_header": str(two), "before": "2\n", "after": "2, new\n"}]
    assert one.stat().st_ino == untouched and two.read_text() == "2, new\n"


def test_a_mode_changed_by_hand_is_restored_without_rewriting(run_module, tmp_path):
    path = tmp_path / "f"
    run_module(files, {"files": [mine(dest=str(path), content="x\n")]})
    path.chmod(0o666)
    inode = path.stat().st_ino
    result = run_module(files, {"files": [mine(dest=str(path), content="x\n")]})
    assert result["changed_paths"] == [str(path)] and result["diff"] == []
    assert mode_of(path) == 0o644 and path.stat().st_ino == inode


def test_check_mode_reports_and_changes_nothing(run_module, tmp_path):
    path = tmp_path / "new" / "f"
    result = run_module(files, {"directories": [mine(path=str(tmp_path / "new"))],
                                "files": [mine(dest=str(path), content="x\n")]}, check=True)
    assert result["changed"] is True and result["changed_paths"] == [str(tmp_path / "new"), str(path)]
    assert result["diff"][0]["after"] == "x\n"
    assert not (tmp_path / "new").exists()


def test_check_mode_takes_an_owner_not_created_yet_as_a_change(run_module, tmp_path):
    path = tmp_path / "f"
    path.write_text("x\n")
    result = run_module(files, {"files": [{"dest": str(path), "content": "x\n", "owner": "selfhost-nobody-yet",
                                           "group": "selfhost-nobody-yet"}]}, check=True)
    assert result["changed_paths"] == [str(path)]


def test_an_unknown_owner_fails_a_real_run_before_writing(run_module, tmp_path):
    path = tmp_path / "f"
    result = run_module(files, {"files": [{"dest": str(path), "content": "x\n", "owner": "selfhost-nobody-yet"}]})
    assert result["failed"] is True and "selfhost-nobody-yet" in result["msg"]
    assert not path.exists()


def test_validate_refuses_bad_content_and_keeps_the_file(run_module, tmp_path):
    path = tmp_path / "sshd_config"
    path.write_text("good\n")
    result = run_module(files, {"files": [mine(dest=str(path), content="bad\n", validate="grep -q good %s")]})
    assert result["failed"] is True and "validate refused" in result["msg"]
    assert path.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sshd_config"]


def test_validate_accepts_good_content(run_module, tmp_path):
    path = tmp_path / "sshd_config"
    result = run_module(files, {"files": [mine(dest=str(path), content="good\n", validate="grep -q good %s")]})
    assert result["changed"] is True and path.read_text() == "good\n"


def test_a_file_where_a_directory_should_be_fails(run_module, tmp_path):
    (tmp_path / "d").write_text("")
    result = run_module(files, {"directories": [mine(path=str(tmp_path / "d"))]})
    assert result["failed"] is True and result["msg"] == f"{tmp_path / 'd'} exists and is not a directory"


@pytest.mark.parametrize("mode", ["rw-r--r--", "0899", ""])
def test_a_mode_that_is_not_octal_fails(run_module, tmp_path, mode):
    result = run_module(files, {"files": [mine(dest=str(tmp_path / "f"), content="x\n", mode=mode)]})
    assert result["failed"] is True and "is not an octal mode" in result["msg"]


def test_the_arguments_in_the_result_show_a_content_s_size_only(run_module, tmp_path):
    result = run_module(files, {"files": [mine(dest=str(tmp_path / "f"), content="secret-password\n")]}, diff=False)
    assert "secret-password" not in str(result)
    assert result["invocation"]["module_args"]["files"][0]["content"] == "(16 characters)"


def test_a_file_the_program_owns_now_is_kept_while_it_matches(run_module, tmp_path):
    conf = tmp_path / "redis.conf"
    conf.write_text("# the package's\nbind 127.0.0.1\n")
    once = mine(dest=str(conf), content="# made by the role\nreplicaof 10.0.0.1 6379\n",
                keep_when_matches="^# made by the role$")
    assert run_module(files, {"files": [once]})["changed_paths"] == [str(conf)]
    # The program rewrites it, keeping the mark: the role leaves it, content and mode.
    conf.write_text("# made by the role\nreplicaof 10.0.0.2 6379\n")
    conf.chmod(0o600)
    result = run_module(files, {"files": [once]})
    assert (result["changed"], result["diff"]) == (False, [])
    assert conf.read_text() == "# made by the role\nreplicaof 10.0.0.2 6379\n"
    assert mode_of(conf) == 0o600


def test_an_absent_file_is_removed_with_its_diff_and_then_left_alone(run_module, tmp_path):
    drop_in = tmp_path / "redis-server.service.d" / "selfhost-after-vpn.conf"
    drop_in.parent.mkdir()
    drop_in.write_text("[Unit]\nAfter=wg-quick@wg0.service\n")
    spec = {"files": [{"dest": str(drop_in), "state": "absent"}]}
    checked = run_module(files, spec, check=True)
    assert checked["changed"] is True and drop_in.exists()
    result = run_module(files, spec)
    assert result["changed_paths"] == [str(drop_in)] and not drop_in.exists()
    assert result["diff"] == [{"before_header": str(drop_in), "after_header": str(drop_in),
                               "before": "[Unit]\nAfter=wg-quick@wg0.service\n", "after": ""}]
    assert run_module(files, spec)["changed"] is False


def test_a_present_file_needs_its_content(run_module, tmp_path):
    result = run_module(files, {"files": [{"dest": str(tmp_path / "f")}]})
    assert result["failed"] is True and "content" in result["msg"]


def test_a_template_reaches_the_module_only_through_its_action(run_module, tmp_path):
    result = run_module(files, {"files": [mine(dest=str(tmp_path / "f"), template="f.j2")]})
    assert result["failed"] is True and "rendered by the action selfhost.stack.files" in result["msg"]
