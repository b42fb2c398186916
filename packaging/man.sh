#!/bin/sh
# appliance-builder.1 from the program's own --help: help2man for the top level, and every
# command's --help appended as a section of its own, so the man page cannot drift from the program.
# Usage: man.sh BUILDER DATADIR LIBEXECDIR OUTPUT
set -eu
builder=$1 datadir=$2 libexecdir=$3 out=$4
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# roff-safe preformatted text: backslashes, and lines starting with . or '
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

{
	echo '[COMMANDS IN DETAIL]'
	for cmd in image seed "seed inspect" env "env create" "env check" "env flatten" "env package" \
		"env unpack-qr" size boot; do
		echo ".SS \"$cmd\""
		echo '.nf'
		# shellcheck disable=SC2086
		"$builder" $cmd --help | roff
		echo '.fi'
	done
	cat <<EOT
[FILES]
.TP
.I $datadir/profiles/
the appliance profiles (\\fB--profile NAME\\fR) and the env template of \\fBenv create\\fR
.TP
.I $datadir/seed/
seed presets (the Vagrant insecure public keys of \\fB--preset=vagrant\\fR)
.TP
.I $datadir/agent-rootfs/
the files the agent brings into every image (units, scripts, templates)
.TP
.I $libexecdir/appliance-agent, $libexecdir/appliance-env
the static agent and env tool copied into images
[ENVIRONMENT]
.TP
.B SOURCE_DATE_EPOCH
the time written into images, seeds and packages (\\fB--source-date-epoch\\fR)
.TP
.B APPLIANCE_PROFILES_DIR, APPLIANCE_SEED_DIR
other directories of profiles and seed presets
.TP
.B APPLIANCE_LOG_LEVEL
\\fBdebug\\fR logs as \\fB-v\\fR does
EOT
} >"$inc"

help2man --no-info --section=1 --name="build appliance disk images and NoCloud seeds" \
	--include="$inc" --output="$out" "$builder"
