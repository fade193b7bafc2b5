#!/bin/sh
# Refreshes the frozen copy of the shipped experiments and their pinned run
# ids, after a deliberate change of identity (see src/testdata.rs). Run from
# anywhere; then review `git diff` of this folder: every changed id is a run
# that will be trained again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
rm -f "$here"/*.toml
cp "$root"/experiments/*.toml "$here"/
cd "$root"
UPDATE_EXPECT=1 cargo test -p fmnist-experiments --lib -- shipped_run_ids_are_pinned
