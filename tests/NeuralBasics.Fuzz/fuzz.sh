#!/usr/bin/env bash
# Fuzzes one parser with AFL++ and SharpFuzz for a given time (outside CI).
#   tests/NeuralBasics.Fuzz/fuzz.sh TARGET [SECONDS]      TARGET: idx | csv | model | checkpoint
# Installs what it needs (Debian's afl++, the SharpFuzz command-line tool), publishes the harness,
# instruments the NeuralBasics assemblies, runs afl-fuzz on a copy of corpus/TARGET, prints the
# executions and findings, and copies every crash or hang into corpus/TARGET/regressions so the
# test run replays it from then on (FuzzCorpusTests).
set -euo pipefail
target=${1:?usage: fuzz.sh idx|csv|model|checkpoint [seconds]}
seconds=${2:-600}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v afl-fuzz >/dev/null || { apt-get update -qq && apt-get install -y -qq afl++; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0

dotnet publish "$here/NeuralBasics.Fuzz.csproj" -c Release -o "$work/bin" -v quiet
for assembly in NeuralBasics.dll NeuralBasics.Csv.dll; do
  sharpfuzz "$work/bin/$assembly"
done

mkdir -p "$work/in"
find "$here/corpus/$target" -type f -exec cp {} "$work/in/" \;
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1
timeout --preserve-status "$seconds" afl-fuzz -i "$work/in" -o "$work/out" -t 5000 -m none \
  -- dotnet "$work/bin/NeuralBasics.Fuzz.dll" "$target" || true

stats=$(find "$work/out" -name fuzzer_stats | head -n 1)
grep -E "^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs) " "$stats" || true
mkdir -p "$here/corpus/$target/regressions"
found=0
for kind in crashes hangs; do
  for file in "$work"/out/*/"$kind"/id*; do
    [ -e "$file" ] || continue
    cp "$file" "$here/corpus/$target/regressions/$kind-$(basename "$file" | tr ':,' '__')"
    found=$((found + 1))
  done
done
echo "fuzz $target: $found crash/hang input(s) kept in corpus/$target/regressions"
