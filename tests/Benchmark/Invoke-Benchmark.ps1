#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Throughput and memory of Invoke-ReplyProcessing against Dovecot, side by side with mbsync and plain MailKit
    (a benchmark that prints numbers; it never passes or fails on a time).
.DESCRIPTION
    1. Generates a reproducible inbound set (seeded): -SmallCount messages of 2-20 KB (60% auto-generated:
       out-of-office with Auto-Submitted, out-of-office recognisable by the subject only, bounces as
       multipart/report; 40% people, a quarter of them with a small attachment) and -LargeCount messages of
       1-9 MB (people with 1-3 base64 attachments, 12% bounces returning the whole original), addressed to three
       list addresses (6% to two). Both are written as Maildirs (new/, CRLF).
    2. Starts a private Dovecot (tests/Support/MailServer.ps1; implicit TLS on loopback, default mail_fsync) and
       measures, per set, with the repetitions interleaved (rep 1 of every mode, then rep 2, ...) so that drift
       hits all modes alike; every repetition writes into a fresh folder and reads a fresh copy of the Maildir
       (hard links: nothing is copied or deleted just before a measurement):
         mbsync        isync pushing the Maildir into an empty folder (IMAPS, pinned test certificate)
         doveadm       doveadm import of the Maildir (local, no IMAP: the practical limit); this also loads the
                       inbound mailbox that the IMAP-source run reads
         mailkit       a plain MailKit loop, one APPEND per message (compiled C#, in its own pwsh process)
         multiappend   the same with MULTIAPPEND batches of -MultiAppendBatch
         ra-md-incl    Invoke-ReplyProcessing, Maildir source, store all (AutoReplies Include)
         ra-md-incl-1  the same with -ThrottleLimit 1 (one worker, one connection): what the workers add
         ra-md-excl    Invoke-ReplyProcessing, Maildir source, store without auto-generated (Exclude)
         ra-imap-excl  Invoke-ReplyProcessing, IMAP source (inbound mailbox on the same Dovecot), Exclude;
                       reports how many message bodies Dovecot sent for it (its logout statistics)
         mbsync-imap   isync copying IMAP to IMAP: the inbound mailbox (loaded by doveadm) pushed into an empty
                       folder of the reply user; the fair anchor of the IMAP-source rows ('x mbsync-imap')
         ra-imap-same  Invoke-ReplyProcessing, IMAP source in the reply folder's own account (same host, port
                       and user): the engine copies on the server (UID COPY), no body through the client
         ra-md-incl-proc  a whole scheduled run: a new pwsh process running Start-ReplyProcessing.ps1 (start,
                       import, run), Maildir source, store all; wall time of the whole process
         ra-idle       a whole scheduled run that finds nothing to do (IMAP source, empty inbound folder whose
                       folders an earlier run created); ra-idle-md the same with an empty Maildir; each idle
                       repetition also runs Measure-IdleRun.ps1 once (the run in parts, printed as a table)
         ra-md-incl-run, ra-imap-excl-run, ra-idle-run, ra-idle-md-run
                       the same whole scheduled runs started as the schedule starts the runner (dotnet
                       ReplyAdmin.Runner.dll, no PowerShell); ra-imap-excl-run on an inbound mailbox of its own
         ra-md-incl-native, ra-imap-excl-native, ra-idle-native, ra-idle-md-native
                       the same, started as a default schedule starts them: the native runner
                       (dependencies/<platform>/ReplyAdmin.Runner, NativeAOT; left out where the module has none)
         ra-imap-shared-native  the native runner, IMAP source in the inbound account, the reply folder shared with it
                       by the reply account (Dovecot ACL): the engine copies on the server (UID COPY into
                       shared/<user>/<folder>), no body through the client
       Invoke-ReplyProcessing and the MailKit loops run in a child pwsh each; their time is the workload only
       (measured inside the child, not PowerShell's start or the module import). Peak RSS comes from
       /usr/bin/time (GNU time, Debian package 'time'; installed with apt-get when missing), CPU from the
       processes' own accounting, Dovecot's CPU from its process group in /proc.
    3. Prints classification throughput (header-only; the cmdlet and a compiled engine loop), the module's
       import time (median of 5 fresh processes) and what a pwsh that only starts and exits costs (the floor of
       every whole-process row).
    Prints a table of medians with ratios to mbsync. Absolute numbers drift on these machines: compare ratios.
    Everything it starts (Dovecot, Postfix, child processes) is stopped on the way out, also on Ctrl+C or errors.
.PARAMETER ModulePath
    The built module manifest (build.ps1 -Task Build lays it out in out/ReplyAdmin).
.PARAMETER Scenario
    Modes to run (default all): mbsync, doveadm, mbsync-imap, mailkit, multiappend, ra-md-incl, ra-md-incl-1, ra-md-excl, ra-imap-excl,
    ra-imap-same, ra-md-incl-proc, ra-md-incl-run, ra-imap-excl-run, ra-idle, ra-idle-md, ra-idle-run, ra-idle-md-run,
    ra-md-incl-native, ra-imap-excl-native, ra-imap-shared-native, ra-idle-native, ra-idle-md-native, ra-watch.
    The *-proc and ra-idle rows are whole pwsh processes (Start-ReplyProcessing.ps1); the *-run rows the same runs started
    as a schedule starts the runner with dotnet (dotnet ReplyAdmin.Runner.dll), the *-native rows as it starts the native
    runner.
.PARAMETER Quick
    A smoke run of about a minute: 150 small and 2 large messages, one repetition (explicit counts win).
.PARAMETER SkipFsyncProbe
    Leave out the fsync probe: after the main runs, mbsync and ra-md-incl run once more on the small set with
    Dovecot's mail_fsync = never, to show how much of the time is spent waiting for the disk.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench
.EXAMPLE
    dotnet pwsh tests/Benchmark/Invoke-Benchmark.ps1 -ModulePath out/ReplyAdmin/ReplyAdmin.psd1 -Quick
.EXAMPLE
    dotnet pwsh tests/Benchmark/Invoke-Benchmark.ps1 -ModulePath out/ReplyAdmin/ReplyAdmin.psd1 -SmallCount 2000 -LargeCount 20 -Repetitions 5 -Scenario mbsync, ra-md-incl
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/ReplyAdmin/ReplyAdmin.psd1'),
    [ValidateRange(1, 1000000)] [int] $SmallCount = 5000,
    [ValidateRange(0, 10000)] [int] $LargeCount = 100,
    [ValidateRange(1, 20)] [int] $Repetitions = 3,
    [int] $Seed = 42,
    [ValidateSet('mbsync', 'doveadm', 'mbsync-imap', 'mailkit', 'multiappend', 'ra-md-incl', 'ra-md-incl-1', 'ra-md-excl', 'ra-imap-excl', 'ra-imap-same', 'ra-md-incl-proc', 'ra-md-incl-run', 'ra-imap-excl-run', 'ra-idle', 'ra-idle-md', 'ra-idle-run', 'ra-idle-md-run', 'ra-md-incl-native', 'ra-imap-excl-native', 'ra-imap-shared-native', 'ra-idle-native', 'ra-idle-md-native', 'ra-watch')]
    [string[]] $Scenario = @('mbsync', 'doveadm', 'mbsync-imap', 'mailkit', 'multiappend', 'ra-md-incl', 'ra-md-incl-1', 'ra-md-excl', 'ra-imap-excl', 'ra-imap-same', 'ra-md-incl-proc', 'ra-md-incl-run', 'ra-imap-excl-run', 'ra-idle', 'ra-idle-md', 'ra-idle-run', 'ra-idle-md-run', 'ra-md-incl-native', 'ra-imap-excl-native', 'ra-imap-shared-native', 'ra-idle-native', 'ra-idle-md-native', 'ra-watch'),
    [ValidateRange(2, 1000)] [int] $MultiAppendBatch = 50,
    [ValidateRange(0.2, 60)] [double] $ClassificationSeconds = 3,
    # Stop starting new repetitions once the next one would end after this many minutes (0: no limit). The first
    # repetition always runs; the fsync probe runs after it.
    [ValidateRange(0, 1440)] [double] $TimeBudgetMinutes = 10,
    [switch] $Quick,
    [switch] $SkipFsyncProbe,
    # Where sets, copies and the mail server live; default a new /tmp/bench-<random>. Removed at the end unless -KeepWorkDirectory.
    [string] $WorkDirectory,
    [switch] $KeepWorkDirectory,
    # Also return the measurements as an object (Summary, Runs, FsyncProbe, Classification, ImportMs, IdleRssMB).
    [switch] $PassThru,
    # Several hosts sharing one sharded IMAP source (issue 12): these host counts on the small set, same run (empty: skip).
    [ValidateRange(1, 8)] [int[]] $HostCounts = @(1, 2, 3),
    [ValidateRange(1, 64)] [int] $HostShards = 6
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('SmallCount')) { $SmallCount = 150 }
    if (-not $PSBoundParameters.ContainsKey('LargeCount')) { $LargeCount = 2 }
    if (-not $PSBoundParameters.ContainsKey('Repetitions')) { $Repetitions = 1 }
    if (-not $PSBoundParameters.ContainsKey('ClassificationSeconds')) { $ClassificationSeconds = 0.5 }
}
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$moduleDir = Split-Path $ModulePath
$clock = [System.Diagnostics.Stopwatch]::StartNew()

# --- helpers -------------------------------------------------------------------------------------------------

function Write-Step([string] $Text) { Write-Host ("[{0,5:N0} s] {1}" -f $clock.Elapsed.TotalSeconds, $Text) }

function Get-PwshCommand {
    # The PowerShell running this script, as a command line (the NuGet tool runs as 'dotnet pwsh.dll').
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { @($process, (Join-Path $PSHOME 'pwsh.dll')) } else { @($process) }
}

# Each repetition's ratio against the anchor's run of the same repetition (interleaved, so under the same load): how far
# one run's ratio strays from the ratio of the medians. mbsync's own time varies most (its APPENDs commit one by one).
function Get-PairedRatio([object[]] $Rows, [string] $Set, [string] $Key, [string] $AnchorKey) {
    foreach ($row in @($Rows | Where-Object { $_.Set -eq $Set -and $_.Key -eq $Key } | Sort-Object Rep)) {
        $anchor = $Rows | Where-Object { $_.Set -eq $Set -and $_.Key -eq $AnchorKey -and $_.Rep -eq $row.Rep } | Select-Object -First 1
        if ($anchor -and $row.Seconds -gt 0) { $anchor.Seconds / $row.Seconds }
    }
}

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $mid = [math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$mid] } else { ($sorted[$mid - 1] + $sorted[$mid]) / 2 }
}

# Runs a command under GNU time in its own process; output goes to a log file. Returns wall/user/sys seconds and
# peak RSS (KB). The child is killed (by pid, with its descendants) if this script stops first.
$script:CurrentChild = $null
function Invoke-Measured {
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string[]] $Command)
    $log = Join-Path $logDir "$Name.log"
    $timeFile = Join-Path $logDir "$Name.time"
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $wrapper = 'log="$1"; tf="$2"; shift 2; exec /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" > "$log" 2>&1 < /dev/null'
    foreach ($a in @('-c', $wrapper, 'sh', $log, $timeFile) + $Command) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $script:CurrentChild = $process
    try {
        # Short waits keep Ctrl+C responsive.
        while (-not $process.WaitForExit(200)) { }
        $process.WaitForExit()
        $code = $process.ExitCode
    } finally {
        if (-not $process.HasExited) { try { $process.Kill($true) } catch { } }
        $script:CurrentChild = $null
        $process.Dispose()
    }
    $tail = if (Test-Path -LiteralPath $log) { (Get-Content -LiteralPath $log -Tail 15) -join "`n" } else { '' }
    if ($code -ne 0) { throw "$Name failed with exit code ${code}: $($Command -join ' ')`n$tail" }
    $fields = ((Get-Content -LiteralPath $timeFile | Where-Object { $_ -match '^[\d.]+ [\d.]+ [\d.]+ \d+$' } | Select-Object -Last 1) -split ' ')
    [pscustomobject]@{ Wall = [double] $fields[0]; User = [double] $fields[1]; Sys = [double] $fields[2]; MaxRssKB = [long] $fields[3]; Log = $log }
}

function Invoke-Doveadm([string[]] $Arguments) {
    Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList (@('-c', $server.DovecotConfig) + $Arguments)
}

function Get-FolderCount([string] $User, [string] $Folder) {
    $out = Invoke-Doveadm @('mailbox', 'status', '-u', $User, 'messages', $Folder)
    if ($out -notmatch 'messages=(\d+)') { throw "Unexpected doveadm output: $out" }
    [int] $Matches[1]
}

# CPU seconds used so far by Dovecot: its master and every process in its process group, plus the children the
# master has reaped (imap and imap-login processes that already ended).
function Get-DovecotCpuSeconds {
    $ticks = 0L
    foreach ($dir in [System.IO.Directory]::GetDirectories('/proc')) {
        if ([System.IO.Path]::GetFileName($dir) -notmatch '^\d+$') { continue }
        try { $stat = [System.IO.File]::ReadAllText("$dir/stat") } catch { continue }
        $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        if ([int] $f[2] -ne $server.DovecotPid) { continue }
        $ticks += [long] $f[11] + [long] $f[12] + [long] $f[13] + [long] $f[14]
    }
    $ticks / 100.0
}

# Sums Dovecot's logout statistics for a user from the log written since $Offset (in/out bytes, headers and bodies sent),
# over all of the run's connections (one per worker): it waits until no new logout has appeared for half a second.
function Get-LogoutStatistics([long] $Offset, [string] $User) {
    $pattern = [regex] ('imap\(' + [regex]::Escape($User) + '\).*Logged out in=(\d+) out=(\d+).*hdr_count=(\d+) hdr_bytes=(\d+) body_count=(\d+) body_bytes=(\d+)')
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    $found = $null
    do {
        $stream = [System.IO.FileStream]::new($server.DovecotLogPath, 'Open', 'Read', 'ReadWrite')
        try {
            [void] $stream.Seek($Offset, 'Begin')
            $text = [System.IO.StreamReader]::new($stream).ReadToEnd()
        } finally { $stream.Dispose() }
        $previous = $found
        $found = @($pattern.Matches($text))
        if ($found.Count -gt 0 -and $null -ne $previous -and $previous.Count -eq $found.Count) { break }
        Start-Sleep -Milliseconds 500
    } while ([DateTime]::UtcNow -lt $deadline)
    $sum = [ordered]@{ Sessions = $found.Count; In = 0L; Out = 0L; HeaderCount = 0L; HeaderBytes = 0L; BodyCount = 0L; BodyBytes = 0L }
    foreach ($m in $found) {
        $sum.In += [long] $m.Groups[1].Value; $sum.Out += [long] $m.Groups[2].Value
        $sum.HeaderCount += [long] $m.Groups[3].Value; $sum.HeaderBytes += [long] $m.Groups[4].Value
        $sum.BodyCount += [long] $m.Groups[5].Value; $sum.BodyBytes += [long] $m.Groups[6].Value
    }
    [pscustomobject] $sum
}

function Get-LoadAverage { ((Get-Content -LiteralPath '/proc/loadavg' -Raw) -split ' ')[0..2] -join ' ' }

# The latency of one fsync of a small new file next to the mail store (what Dovecot waits for on every commit).
function Measure-FsyncLatency([string] $Directory, [int] $Count = 30) {
    $times = foreach ($i in 1..$Count) {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $stream = [System.IO.FileStream]::new((Join-Path $Directory "fsync-$i"), 'CreateNew', 'Write')
        try { $stream.Write([byte[]]::new(4096), 0, 4096); $stream.Flush($true) } finally { $stream.Dispose() }
        $watch.Elapsed.TotalMilliseconds
    }
    Get-Median $times
}

function Get-LogLength { if (Test-Path -LiteralPath $server.DovecotLogPath) { (Get-Item -LiteralPath $server.DovecotLogPath).Length } else { 0L } }

# A fresh copy of a set's Maildir for one run: hard links, so it costs no copying and no page-cache churn. Every
# tool only renames the files it reads (the engine moves them, mbsync adds ,U= to the name), never rewrites them.
function New-MaildirCopy([string] $From, [string] $Name) {
    $to = Join-Path $runDir $Name
    $null = Invoke-TestMailNative -FilePath 'cp' -ArgumentList '-al', $From, $to
    $to
}

function New-BenchConfiguration {
    param([string] $Name, [string] $ReplyFolder, [ValidateSet('Include', 'Exclude')] [string] $AutoReplies, [string] $MaildirPath, [string] $InboundFolder,
        [string] $InboundUser = 'inbound@example.test', [string] $InboundPasswordVariable = 'BENCH_INBOUND_PW')
    $dir = Join-Path $configDir $Name
    $null = New-Item -ItemType Directory -Path $dir
    $config = Join-Path $dir 'config.json'
    Set-ReplyMailbox -ConfigPath $config -Server $server.ImapHost -Port $server.ImapPort -UserName 'replies@example.test' -Folder $ReplyFolder `
        -CredentialReference 'env:BENCH_REPLIES_PW' -CertificateThumbprint $server.CertificateThumbprint
    Add-ReplyList -ConfigPath $config -Name news -Address 'news@example.test' -Action StoreInImap -AutoReplies $AutoReplies
    Add-ReplyList -ConfigPath $config -Name sales -Address 'sales@example.test' -Action StoreInImap -AutoReplies $AutoReplies
    Add-ReplyList -ConfigPath $config -Name events -Address 'events@example.test' -Action StoreInImap -AutoReplies $AutoReplies
    if ($MaildirPath) {
        Set-ReplySource -ConfigPath $config -Kind Maildir -Path $MaildirPath
    } else {
        Set-ReplySource -ConfigPath $config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName $InboundUser `
            -Folder $InboundFolder -CredentialReference "env:$InboundPasswordVariable" -CertificateThumbprint $server.CertificateThumbprint `
            -ProcessedFolder "$InboundFolder-Processed" -ArchiveFolder "$InboundFolder-Auto" -RejectedFolder "$InboundFolder-Rejected"
    }
    $config
}

function Invoke-Child {
    param([string] $Name, [string[]] $Arguments)
    $resultPath = Join-Path $logDir "$Name.json"
    $measured = Invoke-Measured -Name $Name -Command (@($pwsh) + @('-NoProfile', '-NonInteractive', '-File', $childScript,
            '-ModulePath', $ModulePath, '-ResultPath', $resultPath) + $Arguments)
    $child = Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json
    [pscustomobject]@{ Measured = $measured; Child = $child }
}

# An mbsync (1.4) IMAPAccount on the test Dovecot; the password comes from an environment variable. Host localhost:
# mbsync checks the name against the test certificate.
function Get-MbsyncAccount([string] $Name, [string] $User, [string] $PasswordVariable) {
    @"
IMAPAccount $Name
Host localhost
Port $($server.ImapPort)
User $User
PassCmd "printenv $PasswordVariable"
SSLType IMAPS
CertificateFile $($server.CertificatePath)
"@
}

# Preparation (not measured) of the modes added for issue 17: IMAP to IMAP with mbsync, the same-account IMAP source,
# and the idle scheduled runs. Returns what the measurement needs (configuration paths, the inbound folder).
# CPU seconds (user + system) a process has used so far.
function Get-ProcessCpuSeconds([int] $ProcessId) {
    $fields = (Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw).Split(')')[1].Trim().Split(' ')
    ([long] $fields[11] + [long] $fields[12]) / 100.0
}

# Puts the set into a staging folder of the inbound user (not measured), then moves all of it into the watched
# folder in one doveadm command; returns a stopwatch started just before the move.
function Send-WatchSet([hashtable] $Prep, [string] $Suffix) {
    $staging = "Stage-$($Prep.Name)-$Suffix"
    $control = Join-Path $runDir "$staging-control"
    $null = New-Item -ItemType Directory -Path $control
    & chown nobody $control
    $null = Invoke-Doveadm @('import', '-u', 'inbound@example.test', '-s', "maildir:$($Prep.Set.Path):INDEX=MEMORY:CONTROL=$control", $staging, 'all')
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $null = Invoke-Doveadm @('move', '-u', 'inbound@example.test', $Prep.Inbound, 'mailbox', "$staging/INBOX", 'all')
    $watch
}

# The summary lines a watcher has printed so far (one per run).
function Get-WatcherSummary([hashtable] $Prep) { @(Get-Content -LiteralPath $Prep.Log -ErrorAction Ignore | Where-Object { $_ -match '^ReplyAdmin run \S+: \d+ messages' }) }

# Waits until the watcher's summary lines (after the first -After of them) count -Total messages in at least -Lines lines.
function Wait-WatcherTotal([hashtable] $Prep, [int] $Total, [int] $Lines, [int] $After = 0) {
    $deadline = [DateTime]::UtcNow.AddMinutes(5)
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($Prep.Process.HasExited) { throw "The watcher ended: $((Get-Content -LiteralPath $Prep.Log -Tail 10) -join "`n")" }
        $summaries = @(Get-WatcherSummary $Prep)
        $counted = ($summaries | Select-Object -Skip $After | ForEach-Object { if ($_ -match ': (\d+) messages') { [int] $Matches[1] } } | Measure-Object -Sum).Sum
        if ($summaries.Count -ge $Lines -and $counted -ge $Total) { return $counted }
        Start-Sleep -Milliseconds 20
    }
    throw "The watcher did not handle $Total messages in 5 minutes: $((Get-Content -LiteralPath $Prep.Log -Tail 10) -join "`n")"
}

# Loads the set into -Mailbox of -User by doveadm import (not measured); returns the folder that holds it.
function Import-BenchInbound([object] $Set, [string] $Name, [string] $User, [string] $Mailbox) {
    $copy = New-MaildirCopy $Set.Path $Name
    $control = Join-Path $runDir "$Name-control"
    $null = New-Item -ItemType Directory -Path $control
    & chown nobody $control
    $null = Invoke-Doveadm @('import', '-u', $User, '-s', "maildir:${copy}:INDEX=MEMORY:CONTROL=$control", $Mailbox, 'all')
    "$Mailbox/INBOX"
}

function Initialize-ExtraScenario {
    param([string] $Key, [object] $Set, [int] $Rep, [string] $Name, [string] $Folder)
    switch ($Key) {
        'mbsync-imap' {
            $inbound = "In-$($Set.Name)-r$Rep"
            if (-not $script:Inbound.ContainsKey($inbound)) { throw "The inbound mailbox $inbound was not loaded." }
            $rc = Join-Path $configDir "$Name.mbsyncrc"
            $state = Join-Path $configDir "$Name-state"
            $null = New-Item -ItemType Directory -Path $state
            # Both stores on the test Dovecot; the near side is the inbound mailbox (read only: Sync Push).
            $text = @"
$(Get-MbsyncAccount far replies@example.test BENCH_REPLIES_PW)

$(Get-MbsyncAccount near inbound@example.test BENCH_INBOUND_PW)

IMAPStore far
Account far

IMAPStore near
Account near

Channel push
Far :far:$Folder
Near :near:$($script:Inbound[$inbound])
Create Far
Sync Push
SyncState $state/
"@
            [System.IO.File]::WriteAllText($rc, $text)
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $Folder)
            @{ Rc = $rc }
        }
        'ra-imap-same' {
            # The inbound mailbox in the reply user's own account.
            $inbound = Import-BenchInbound -Set $Set -Name $Name -User 'replies@example.test' -Mailbox "Same-$($Set.Name)-r$Rep"
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $Folder)
            $config = New-BenchConfiguration -Name $Name -ReplyFolder $Folder -AutoReplies Exclude -InboundFolder $inbound -InboundUser 'replies@example.test' -InboundPasswordVariable 'BENCH_REPLIES_PW'
            @{ Config = $config; Inbound = $inbound }
        }
        'ra-watch' {
            # A resident Start-ReplyProcessing.ps1 -Watch on an empty inbound folder; the set waits in a staging folder and
            # is moved in at once when measured. The watcher first handles the same set once (a resident process has
            # long been warm), then waits in IDLE.
            $inbound = "Watch-$($Set.Name)-r$Rep"
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $Folder)
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'inbound@example.test', $inbound)
            $config = New-BenchConfiguration -Name $Name -ReplyFolder $Folder -AutoReplies Exclude -InboundFolder $inbound
            $log = Join-Path $logDir "$Name.log"
            $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
            foreach ($a in @('-c', 'log="$1"; shift; exec "$@" > "$log" 2>&1 < /dev/null', 'sh', $log) + @($pwsh) + @('-NoProfile', '-NonInteractive', '-File', $startScript, '-ConfigPath', $config, '-Watch', '-WatchIntervalSeconds', '3600')) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $watcher = [System.Diagnostics.Process]::Start($psi)
            $prep = @{ Config = $config; Inbound = $inbound; Log = $log; Process = $watcher; Set = $Set; Name = $Name }
            try {
                $null = Wait-WatcherTotal -Prep $prep -Total 0 -Lines 1
                $null = Send-WatchSet -Prep $prep -Suffix 'warm'
                $null = Wait-WatcherTotal -Prep $prep -Total $Set.Count -Lines 2
                # The warm-up's stored copies go; the measured run must store into an empty folder.
                $null = Invoke-Doveadm @('expunge', '-u', 'replies@example.test', 'mailbox', $Folder, 'all')
                # After a run the runtime still compiles hot code in the background for a few seconds: a resident process
                # meets the next replies after that, so wait until the watcher is quiet (under 50 ms CPU in a second).
                $quietBy = [DateTime]::UtcNow.AddSeconds(30)
                do {
                    $before = Get-ProcessCpuSeconds $watcher.Id
                    Start-Sleep -Seconds 1
                } while ((Get-ProcessCpuSeconds $watcher.Id) - $before -gt 0.05 -and [DateTime]::UtcNow -lt $quietBy)
            } catch {
                # The measurement kills it at its end; a failed warm-up must not leave it running either.
                if (-not $watcher.HasExited) { $watcher.Kill($true) }
                throw
            }
            $prep
        }
        { $_ -in 'ra-imap-excl-run', 'ra-imap-excl-native', 'ra-imap-shared-native' } {
            # Its own inbound mailbox: the rows before it emptied theirs.
            $inbound = Import-BenchInbound -Set $Set -Name $Name -User 'inbound@example.test' -Mailbox "Run-$($Set.Name)-r$Rep-$Key"
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $Folder)
            if ($Key -eq 'ra-imap-shared-native') {
                # What an administrator grants: the inbound account may read the reply folder, add to it and set flags.
                $null = Invoke-Doveadm @('acl', 'set', '-u', 'replies@example.test', $Folder, 'user=inbound@example.test', 'lookup', 'read', 'write', 'write-seen', 'insert')
            }
            @{ Config = (New-BenchConfiguration -Name $Name -ReplyFolder $Folder -AutoReplies Exclude -InboundFolder $inbound); Inbound = $inbound }
        }
        { $_ -like 'ra-idle*' } {
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $Folder)
            if ($Key -in 'ra-idle', 'ra-idle-run', 'ra-idle-native') {
                $inbound = "Idle-$Key-$($Set.Name)-r$Rep"
                $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'inbound@example.test', $inbound)
                $config = New-BenchConfiguration -Name $Name -ReplyFolder $Folder -AutoReplies Exclude -InboundFolder $inbound
            } else {
                $maildir = Join-Path $runDir $Name
                foreach ($sub in 'new', 'cur', 'tmp') { $null = New-Item -ItemType Directory -Path (Join-Path $maildir $sub) -Force }
                $config = New-BenchConfiguration -Name $Name -ReplyFolder $Folder -AutoReplies Exclude -MaildirPath $maildir
            }
            # A scheduled run is rarely the first: an earlier one created the folders, the journal and the lock directory.
            $null = Invoke-Measured -Name "$Name-first" -Command (@(Get-RunCommand $Key) + @('-ConfigPath', $config))
            @{ Config = $config }
        }
    }
}

# What a scheduled run starts, before -ConfigPath: the runner with dotnet for the *-run modes, the native runner for the
# *-native ones, else Start-ReplyProcessing.ps1 in pwsh.
function Get-RunCommand([string] $Key) {
    if ($Key -like '*-run') { return @($runner) }
    if ($Key -like '*-native') { return @($nativeRunner) }
    @($pwsh) + @('-NoProfile', '-NonInteractive', '-File', $startScript)
}

# The measurement of the modes added for issue 17 (whole processes: the wall time is start, import and run).
function Invoke-ExtraScenario {
    param([string] $Key, [System.Collections.IDictionary] $Row, [string] $Name, [hashtable] $Prep)
    if ($Key -eq 'mbsync-imap') {
        $m = Invoke-Measured -Name $Name -Command @('mbsync', '-c', $Prep.Rc, 'push')
        $Row.Seconds = $m.Wall; $Row.ClientCpu = $m.User + $m.Sys; $Row.PeakRssKB = $m.MaxRssKB
        return
    }
    if ($Key -eq 'ra-watch') {
        # Measured: from moving the whole set into the watched folder until the watcher's summaries account for it.
        $watcher = $Prep.Process
        try {
            $cpuBefore = Get-ProcessCpuSeconds $watcher.Id
            $lines = @(Get-WatcherSummary $Prep).Count
            $watch = Send-WatchSet -Prep $Prep -Suffix 'measured'
            $null = Wait-WatcherTotal -Prep $Prep -Total $Prep.Set.Count -Lines ($lines + 1) -After $lines
            $Row.Seconds = $watch.Elapsed.TotalSeconds
            $Row.ClientCpu = (Get-ProcessCpuSeconds $watcher.Id) - $cpuBefore
            $Row.PeakRssKB = [long] ((Select-String -LiteralPath "/proc/$($watcher.Id)/status" -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value)
            $Row.Stored = Get-FolderCount 'replies@example.test' $Row.Folder
            # What waiting costs: the watcher's CPU in three windows of 5 s in IDLE, and how soon one more reply is handled.
            $idleCpuMs = foreach ($window in 1..3) {
                $idleBefore = Get-ProcessCpuSeconds $watcher.Id
                Start-Sleep -Seconds 5
                '{0:N0}' -f (((Get-ProcessCpuSeconds $watcher.Id) - $idleBefore) * 1000)
            }
            $lines = @(Get-WatcherSummary $Prep).Count
            $one = [ReplyAdminBench.Baseline]::Files($Prep.Set.Path) | Select-Object -First 1
            $clockOne = [System.Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $server.DovecotConfig, 'save', '-u', 'inbound@example.test', '-m', $Prep.Inbound -InputFile $one
            $null = Wait-WatcherTotal -Prep $Prep -Total 1 -Lines ($lines + 1) -After $lines
            $Row.Note = "one more reply handled {0:N0} ms after delivery; waiting in IDLE: {1} ms CPU in 3 x 5 s" -f $clockOne.Elapsed.TotalMilliseconds, ($idleCpuMs -join ' / ')
            $Row.Messages = $Prep.Set.Count
        } finally {
            if (-not $watcher.HasExited) { try { $watcher.Kill($true) } catch { } }
            $watcher.Dispose()
        }
        return
    }
    if ($Key -eq 'ra-imap-same') {
        $r = Invoke-Child -Name $Name -Arguments @('-Mode', 'Process', '-ConfigPath', $Prep.Config)
        $Row.Seconds = $r.Child.Seconds; $Row.ClientCpu = $r.Child.CpuSeconds; $Row.PeakRssKB = $r.Measured.MaxRssKB
        $Row.JitSeconds = $r.Child.JitSeconds; $Row.AllocatedMB = $r.Child.AllocatedMB
        $s = $r.Child.Summary
        if ($s.Failed -gt 0 -or $s.Total -ne $Row.Messages) { $Row.Note = "summary: $($s.Total) handled, $($s.Failed) failed" }
        $Row.Note = ($Row.Note + " excluded $($s.Excluded)").Trim()
        return
    }
    # A scheduled run as the schedule starts it: pwsh -File Start-ReplyProcessing.ps1 -ConfigPath ..., or the runner.
    $m = Invoke-Measured -Name $Name -Command (@(Get-RunCommand $Key) + @('-ConfigPath', $Prep.Config))
    $Row.Seconds = $m.Wall; $Row.ClientCpu = $m.User + $m.Sys; $Row.PeakRssKB = $m.MaxRssKB
    $Row.Note = ((Get-Content -LiteralPath $m.Log | Select-Object -Last 1) -replace '\s+', ' ').Trim()
    if ($Key -in 'ra-idle', 'ra-idle-md') {
        # Once more, in parts (not the measured row): where an idle run's time goes (Measure-IdleRun.ps1).
        $phases = Join-Path $logDir "$Name-phases.json"
        $null = Invoke-Measured -Name "$Name-phases" -Command (@($pwsh) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Measure-IdleRun.ps1'),
                '-ModulePath', $ModulePath, '-ConfigPath', $Prep.Config, '-ResultPath', $phases))
        $Row.Phases = Get-Content -LiteralPath $phases -Raw | ConvertFrom-Json
    }
}

# One measured run of one mode on one set; returns a row for the table.
function Invoke-Scenario {
    param([string] $Key, [object] $Set, [int] $Rep)
    $name = "$Key-$($Set.Name)-r$Rep"
    $folder = $name
    $row = [ordered]@{ Key = $Key; Set = $Set.Name; Rep = $Rep; Folder = $folder; Messages = $Set.Count; Bytes = $Set.Bytes; Seconds = 0.0; ClientCpu = 0.0
        DovecotCpu = 0.0; PeakRssKB = 0L; Stored = 0; Expected = 0; BodyCount = $null; BodyBytes = $null; HeaderCount = $null; Note = ''
        JitSeconds = $null; AllocatedMB = $null }
    # Preparation (not measured): fresh source copy, fresh destination folder, configuration.
    switch -Wildcard ($Key) {
        'mbsync' {
            $copy = New-MaildirCopy $Set.Path $name
            $rc = Join-Path $configDir "$name.mbsyncrc"
            # mbsync 1.4 syntax (Far/Near; SSLType).
            $text = @"
$(Get-MbsyncAccount bench replies@example.test BENCH_REPLIES_PW)

IMAPStore far
Account bench

MaildirStore near
Inbox $copy

Channel push
Far :far:$folder
Near :near:
Create Far
Sync Push
SyncState *
"@
            [System.IO.File]::WriteAllText($rc, $text)
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $folder)
        }
        'doveadm' {
            $copy = New-MaildirCopy $Set.Path $name
            $control = Join-Path $runDir "$name-control"
            $null = New-Item -ItemType Directory -Path $control
            & chown nobody $control
        }
        'mailkit' { $copy = New-MaildirCopy $Set.Path $name; $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $folder) }
        'multiappend' { $copy = New-MaildirCopy $Set.Path $name; $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $folder) }
        'ra-md-*' {
            $copy = New-MaildirCopy $Set.Path $name
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $folder)
            $config = New-BenchConfiguration -Name $name -ReplyFolder $folder -AutoReplies $(if ($Key -like 'ra-md-incl*') { 'Include' } else { 'Exclude' }) -MaildirPath $copy
        }
        'ra-imap-excl' {
            $inbound = "In-$($Set.Name)-r$Rep"
            if (-not $script:Inbound.ContainsKey($inbound)) { throw "The inbound mailbox $inbound was not loaded." }
            $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $folder)
            $config = New-BenchConfiguration -Name $name -ReplyFolder $folder -AutoReplies Exclude -InboundFolder $script:Inbound[$inbound]
        }
        { $_ -in 'mbsync-imap', 'ra-imap-same', 'ra-imap-excl-run', 'ra-imap-excl-native', 'ra-imap-shared-native', 'ra-watch' -or $_ -like 'ra-idle*' } { $prep = Initialize-ExtraScenario -Key $Key -Set $Set -Rep $Rep -Name $name -Folder $folder }
    }

    $logOffset = Get-LogLength
    $cpuBefore = Get-DovecotCpuSeconds
    switch -Wildcard ($Key) {
        'mbsync' {
            $m = Invoke-Measured -Name $name -Command @('mbsync', '-c', $rc, 'push')
            $row.Seconds = $m.Wall; $row.ClientCpu = $m.User + $m.Sys; $row.PeakRssKB = $m.MaxRssKB
        }
        'doveadm' {
            # Imports into "<folder>/INBOX" of the inbound user: that is the inbound mailbox of the IMAP-source run.
            $m = Invoke-Measured -Name $name -Command @('doveadm', '-c', $server.DovecotConfig, 'import', '-u', 'inbound@example.test', '-s',
                "maildir:${copy}:INDEX=MEMORY:CONTROL=$control", "In-$($Set.Name)-r$Rep", 'all')
            $row.Seconds = $m.Wall; $row.ClientCpu = $m.User + $m.Sys; $row.PeakRssKB = $m.MaxRssKB
        }
        'mailkit' {
            $r = Invoke-Child -Name $name -Arguments @('-Mode', 'Append', '-HelperPath', $helperDll, '-Maildir', $copy, '-Folder', $folder, '-BatchSize', '1')
            $row.Seconds = $r.Child.Seconds; $row.ClientCpu = $r.Child.CpuSeconds; $row.PeakRssKB = $r.Measured.MaxRssKB
            $row.JitSeconds = $r.Child.JitSeconds; $row.AllocatedMB = $r.Child.AllocatedMB
        }
        'multiappend' {
            $r = Invoke-Child -Name $name -Arguments @('-Mode', 'Append', '-HelperPath', $helperDll, '-Maildir', $copy, '-Folder', $folder, '-BatchSize', "$MultiAppendBatch")
            $row.Seconds = $r.Child.Seconds; $row.ClientCpu = $r.Child.CpuSeconds; $row.PeakRssKB = $r.Measured.MaxRssKB
            $row.JitSeconds = $r.Child.JitSeconds; $row.AllocatedMB = $r.Child.AllocatedMB
        }
        { $_ -in 'mbsync-imap', 'ra-imap-same', 'ra-imap-excl-run', 'ra-imap-excl-native', 'ra-imap-shared-native', 'ra-watch' -or $_ -like 'ra-idle*' -or $_ -like 'ra-md-incl-*' -and $_ -ne 'ra-md-incl-1' } {
            Invoke-ExtraScenario -Key $Key -Row $row -Name $name -Prep $(if ($Key -like 'ra-md-*') { @{ Config = $config } } else { $prep }); break
        }
        'ra-*' {
            $r = Invoke-Child -Name $name -Arguments (@('-Mode', 'Process', '-ConfigPath', $config) + $(if ($Key -like '*-1') { @('-ThrottleLimit', '1') } else { @() }))
            $row.Seconds = $r.Child.Seconds; $row.ClientCpu = $r.Child.CpuSeconds; $row.PeakRssKB = $r.Measured.MaxRssKB
            $row.JitSeconds = $r.Child.JitSeconds; $row.AllocatedMB = $r.Child.AllocatedMB
            $s = $r.Child.Summary
            if ($s.Failed -gt 0 -or $s.Total -ne $Set.Count) { $row.Note = "summary: $($s.Total) handled, $($s.Failed) failed" }
            $row.Note = ($row.Note + " excluded $($s.Excluded)").Trim()
        }
    }
    $row.DovecotCpu = (Get-DovecotCpuSeconds) - $cpuBefore

    # Check (not measured): what arrived where it should.
    if ($Key -eq 'doveadm') {
        $script:Inbound["In-$($Set.Name)-r$Rep"] = "In-$($Set.Name)-r$Rep/INBOX"
        $row.Stored = Get-FolderCount 'inbound@example.test' "In-$($Set.Name)-r$Rep/INBOX"
        $row.Expected = $Set.Count
    } else {
        # ra-watch counted before its one extra reply.
        if ($Key -ne 'ra-watch') { $row.Stored = Get-FolderCount 'replies@example.test' $folder }
        # Exclude: what Get-ReplyClassification calls a person's reply should be stored, nothing else.
        $row.Expected = if ($Key -like '*excl' -or $Key -in 'ra-imap-same', 'ra-imap-excl-run', 'ra-imap-excl-native', 'ra-imap-shared-native', 'ra-watch') { $Set.Count - $Set.ClassifiedAuto } else { $Set.Count }
    }
    if ($Key -like 'ra-idle*') {
        $row.Stored = $row.Expected = 0
    } elseif ($Key -eq 'ra-imap-same') {
        $stats = Get-LogoutStatistics -Offset $logOffset -User 'replies@example.test'
        $row.BodyCount = $stats.BodyCount; $row.BodyBytes = $stats.BodyBytes; $row.HeaderCount = $stats.HeaderCount
        $left = Get-FolderCount 'replies@example.test' $prep.Inbound
        if ($left -ne 0) { $row.Note += " $left left in the inbound mailbox" }
    }
    if ($Key -in 'ra-imap-excl-run', 'ra-imap-excl-native', 'ra-imap-shared-native') {
        if ($Key -eq 'ra-imap-shared-native') {
            $stats = Get-LogoutStatistics -Offset $logOffset -User 'inbound@example.test'
            $row.BodyCount = $stats.BodyCount; $row.BodyBytes = $stats.BodyBytes; $row.HeaderCount = $stats.HeaderCount
        }
        $left = Get-FolderCount 'inbound@example.test' $prep.Inbound
        if ($left -ne 0) { $row.Note += " $left left in the inbound mailbox" }
    }
    if ($Key -eq 'ra-imap-excl') {
        $stats = Get-LogoutStatistics -Offset $logOffset -User 'inbound@example.test'
        $row.BodyCount = $stats.BodyCount; $row.BodyBytes = $stats.BodyBytes; $row.HeaderCount = $stats.HeaderCount
        $left = Get-FolderCount 'inbound@example.test' ($script:Inbound["In-$($Set.Name)-r$Rep"])
        if ($left -ne 0) { $row.Note += " $left left in the inbound mailbox" }
    }
    if ($row.Stored -ne $row.Expected) { $row.Note = ("stored $($row.Stored), expected $($row.Expected). " + $row.Note).Trim() }
    [pscustomobject] $row
}

# --- several hosts (issue 12) -------------------------------------------------------------------------------

# The small set in a sharded IMAP source (each message in the shard its Message-ID picks), then 1, 2, 3 hosts
# (Invoke-ReplyProcessing in processes of their own, each with its own configuration and host id, started together)
# until it is empty. Returns one row per host count: wall seconds (first start to last end, module import of the
# children excluded), msgs/s, each host's CPU seconds and messages, Dovecot CPU.
function Measure-HostsScaling {
    param([object] $Set, [int[]] $Counts, [int] $Shards)
    # The engine assembly was loaded beside the helper (Add-Type above), so the rule is the module's own.
    $rule = 'ReplyAdmin.Engine.Leases.ShardRule' -as [type]
    $files = [ReplyAdminBench.Baseline]::Files($Set.Path)
    $idPattern = [regex]::new('(?mi)^Message-ID:[ \t]*<([^>\r\n]*)>')
    $byUnit = @{}
    foreach ($file in $files) {
        $buffer = [byte[]]::new(8192)
        $stream = [IO.File]::OpenRead($file)
        try { $read = $stream.Read($buffer, 0, $buffer.Length) } finally { $stream.Dispose() }
        $match = $idPattern.Match([Text.Encoding]::ASCII.GetString($buffer, 0, $read))
        $shard = if ($match.Success) { $rule::ShardOf($match.Groups[1].Value, $Shards) } else { $null }
        $key = if ($null -eq $shard) { -1 } else { $shard }
        if (-not $byUnit.ContainsKey($key)) { $byUnit[$key] = [Collections.Generic.List[string]]::new() }
        $byUnit[$key].Add($file)
    }
    foreach ($count in $Counts) {
        $inbound = "Hosts$count"
        $client = [ReplyAdminBench.Baseline]::Connect($server.ImapHost, $server.ImapPort, 'inbound@example.test', $env:BENCH_INBOUND_PW, $server.CertificateThumbprint)
        try {
            foreach ($key in $byUnit.Keys) {
                $folder = if ($key -lt 0) { $inbound } else { $rule::ShardFolder($inbound, $key) }
                $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'inbound@example.test', $folder)
                $null = [ReplyAdminBench.Baseline]::Append($client, $folder, $byUnit[$key].ToArray(), 50)
            }
            $client.Disconnect($true)
        } finally { $client.Dispose() }
        $replyFolder = "hosts-$count"
        $null = Invoke-Doveadm @('mailbox', 'create', '-u', 'replies@example.test', $replyFolder)
        $children = foreach ($h in 1..$count) {
            $config = New-BenchConfiguration -Name "hosts$count-h$h" -ReplyFolder $replyFolder -AutoReplies Include -InboundFolder $inbound
            Set-ReplyCoordination -ConfigPath $config -HostId "bench-host-$h" -Shards $Shards -LeaseTimeToLiveSeconds 30
            $resultPath = Join-Path $logDir "hosts$count-h$h.json"
            $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
            foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $childScript, '-ModulePath', $ModulePath, '-ResultPath', $resultPath, '-Mode', 'Process', '-ConfigPath', $config)) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
            [pscustomobject]@{ Host = $h; ResultPath = $resultPath; Process = $null; Psi = $psi }
        }
        $cpuBefore = Get-DovecotCpuSeconds
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        foreach ($c in $children) { $c.Process = [System.Diagnostics.Process]::Start($c.Psi); $c | Add-Member Out $c.Process.StandardOutput.ReadToEndAsync(); $c | Add-Member Err $c.Process.StandardError.ReadToEndAsync() }
        foreach ($c in $children) { $c.Process.WaitForExit(); if ($c.Process.ExitCode -ne 0) { throw "Host $($c.Host) of $count failed (exit code $($c.Process.ExitCode)): $($c.Err.Result) $($c.Out.Result)" } }
        $wall = $watch.Elapsed.TotalSeconds
        $dovecotCpu = (Get-DovecotCpuSeconds) - $cpuBefore
        $results = @($children | ForEach-Object { Get-Content -LiteralPath $_.ResultPath -Raw | ConvertFrom-Json })
        # The workload only: from the earliest start of a child's run to the latest end (module import excluded).
        $startup = @($results | ForEach-Object { $wall - $_.Seconds } | Measure-Object -Minimum).Minimum
        $seconds = $wall - $startup
        $stored = Get-FolderCount 'replies@example.test' $replyFolder
        $row = [pscustomobject]@{
            Hosts = $count; Shards = $Shards; Messages = $Set.Count; Seconds = $seconds; Wall = $wall; MsgsPerSec = $Set.Count / $seconds
            HostCpu = @($results | ForEach-Object { [math]::Round($_.CpuSeconds, 2) }); HostMessages = @($results | ForEach-Object { $_.Summary.Total })
            DovecotCpu = $dovecotCpu; Stored = $stored
        }
        Write-Step ("hosts {0}: {1:N2} s (wall with pwsh start {2:N2} s), {3:N0} msgs/s; per-host CPU {4} s; per-host messages {5}; Dovecot CPU {6:N2} s; stored {7}/{8}" -f
            $count, $seconds, $wall, $row.MsgsPerSec, ($row.HostCpu -join ' / '), ($row.HostMessages -join ' / '), $dovecotCpu, $stored, $Set.Count)
        $row
    }
}

# --- main ----------------------------------------------------------------------------------------------------

$server = $null
$work = $null
$envNames = 'BENCH_REPLIES_PW', 'BENCH_INBOUND_PW', 'BENCH_IMAP_HOST', 'BENCH_IMAP_PORT', 'BENCH_IMAP_USER', 'BENCH_IMAP_THUMBPRINT'
try {
    foreach ($tool in '/usr/bin/mbsync', '/usr/bin/doveadm', '/usr/sbin/dovecot') {
        if (-not (Test-Path $tool)) { throw "$tool is missing: install isync and dovecot-imapd (build.ps1 -Task Bench does)." }
    }
    if (-not (Test-Path '/usr/bin/time')) {
        Write-Step 'Installing GNU time (Debian package "time") for peak-RSS measurement...'
        $install = 'apt-get install -y -qq --no-install-recommends time || (apt-get update -qq && apt-get install -y -qq --no-install-recommends time)'
        if ((& id -u) -eq '0') { & sh -c $install } else { & sudo sh -c $install }
        if (-not (Test-Path '/usr/bin/time')) { throw 'GNU time (/usr/bin/time) is needed; install the Debian package "time".' }
    }

    $work = if ($WorkDirectory) { $WorkDirectory } else { Join-Path '/tmp' ('bench-' + [guid]::NewGuid().ToString('N').Substring(0, 8)) }
    $null = New-Item -ItemType Directory -Path $work -Force
    $work = (Resolve-Path -LiteralPath $work).ProviderPath
    & chmod 0755 $work
    $setDir = Join-Path $work 'sets'; $runDir = Join-Path $work 'runs'; $configDir = Join-Path $work 'configs'; $logDir = Join-Path $work 'logs'
    foreach ($d in $setDir, $runDir, $configDir, $logDir) { $null = New-Item -ItemType Directory -Path $d -Force }
    $pwsh = Get-PwshCommand
    $childScript = Join-Path $PSScriptRoot 'Invoke-BenchmarkChild.ps1'
    $startScript = Join-Path $moduleDir 'Start-ReplyProcessing.ps1'
    $runner = @((Get-Command dotnet -CommandType Application | Select-Object -First 1).Source, (Join-Path $moduleDir 'dependencies/ReplyAdmin.Runner.dll'))
    $nativeRunner = Get-ChildItem -Path (Join-Path $moduleDir 'dependencies/*/ReplyAdmin.Runner*') -File -ErrorAction Ignore | Select-Object -First 1 -ExpandProperty FullName
    if (-not $nativeRunner) {
        Write-Step "No native runner in $moduleDir/dependencies (build.ps1 compiles it where gcc or clang is installed): the *-native rows are left out."
        $Scenario = @($Scenario | Where-Object { $_ -notlike '*-native' })
    }
    . (Join-Path $PSScriptRoot '../Support/MailServer.ps1')

    Write-Step "Work directory $work; module $ModulePath"
    Import-Module $ModulePath -Force
    # The helper: generator, MailKit baselines, classification loop; compiled against the module's own assemblies.
    $helperDll = Join-Path $work 'BenchmarkHelper.dll'
    $dependencies = Join-Path $moduleDir 'dependencies'
    $references = @((Join-Path $dependencies 'MailKit.dll'), (Join-Path $dependencies 'MimeKit.dll'), (Join-Path $dependencies 'ReplyAdmin.Engine.dll'),
        'netstandard', 'System.Net.Security', 'System.Net.Sockets', 'System.Net.Primitives', 'System.Security.Cryptography', 'System.Collections', 'System.Linq', 'System.Runtime')
    Add-Type -TypeDefinition (Get-Content -LiteralPath (Join-Path $PSScriptRoot 'BenchmarkHelper.cs') -Raw) -ReferencedAssemblies $references -IgnoreWarnings -OutputAssembly $helperDll
    # The module's own MimeKit/MailKit/engine files first, so the helper binds to the very code the module runs (a
    # second load of it, in the default context: the module's copies live in its own load context).
    foreach ($dll in 'MimeKit.dll', 'MailKit.dll', 'ReplyAdmin.Engine.dll') { Add-Type -Path (Join-Path $dependencies $dll) }
    Add-Type -Path $helperDll

    # 1. The inbound sets.
    $sets = [System.Collections.Generic.List[object]]::new()
    foreach ($spec in @(@{ Name = 'small'; Count = $SmallCount; Large = $false }, @{ Name = 'large'; Count = $LargeCount; Large = $true })) {
        if ($spec.Count -le 0) { continue }
        $info = [ReplyAdminBench.Generator]::Write((Join-Path $setDir $spec.Name), $spec.Count, $Seed + [int] $spec.Large, $spec.Large)
        $sets.Add([pscustomobject]@{ Name = $spec.Name; Path = $info.Path; Count = $info.Count; Bytes = $info.Bytes; Largest = $info.LargestBytes
                Human = $info.Human; AutoGenerated = $info.AutoGenerated; Info = $info })
        Write-Step ("Generated the {0} set: {1:N0} messages, {2:N1} MB (largest {3:N2} MB); {4:N0} people ({5:N0} with attachments), {6:N0} out-of-office with Auto-Submitted, {7:N0} out-of-office by subject only, {8:N0} bounces" -f
            $spec.Name, $info.Count, ($info.Bytes / 1MB), ($info.LargestBytes / 1MB), $info.Human, $info.HumanWithAttachment, $info.OutOfOfficeAutoSubmitted, $info.OutOfOfficeSubjectOnly, $info.Bounce)
    }
    & chmod -R a+rX $setDir
    foreach ($set in $sets) {
        $files = [ReplyAdminBench.Baseline]::Files($set.Path)
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $verdicts = @(Get-ReplyClassification -LiteralPath $files)
        $set | Add-Member -NotePropertyName CmdletSeconds -NotePropertyValue $watch.Elapsed.TotalSeconds
        $set | Add-Member -NotePropertyName ClassifiedAuto -NotePropertyValue @($verdicts | Where-Object IsAutoGenerated).Count
        $set | Add-Member -NotePropertyName BodyRead -NotePropertyValue @($verdicts | Where-Object BodyRead).Count
    }

    # 2. Classification throughput (header-only), and a check that the classifier sees the set as generated.
    $smallSet = $sets | Where-Object Name -EQ 'small' | Select-Object -First 1
    $classification = $null
    if ($smallSet) {
        $files = [ReplyAdminBench.Baseline]::Files($smallSet.Path)
        $cmdletRate = $files.Count / $smallSet.CmdletSeconds
        $auto = $smallSet.ClassifiedAuto
        $bodyRead = $smallSet.BodyRead
        $messages = 0L; $bodyReads = 0L; $autoCount = 0L
        $null = [ReplyAdminBench.Classify]::Rate($files, 0.2, [ref] $messages, [ref] $bodyReads, [ref] $autoCount) # warm-up
        $loopRate = [ReplyAdminBench.Classify]::Rate($files, $ClassificationSeconds, [ref] $messages, [ref] $bodyReads, [ref] $autoCount)
        $classification = [pscustomobject]@{ CmdletRate = $cmdletRate; LoopRate = $loopRate; Auto = $auto; Generated = $smallSet.AutoGenerated; BodyRead = $bodyRead; Count = $files.Count }
        Write-Step ("Classification: {0:N0} msgs/s through Get-ReplyClassification, {1:N0} msgs/s in a compiled engine loop; {2:N0} of {3:N0} auto-generated (generated: {4:N0}); body read for {5:N0}" -f
            $cmdletRate, $loopRate, $auto, $files.Count, $smallSet.AutoGenerated, $bodyRead)
    }

    # 3. Module import time, in fresh processes (also gives the RSS of an idle pwsh with the module).
    $importRuns = foreach ($i in 1..$(if ($Quick) { 2 } else { 5 })) {
        $m = Invoke-Measured -Name "import-$i" -Command (@($pwsh) + @('-NoProfile', '-NonInteractive', '-Command',
                "(Measure-Command { Import-Module '$ModulePath' }).TotalMilliseconds"))
        [pscustomobject]@{ Ms = [double] ((Get-Content -LiteralPath $m.Log | Where-Object { $_ -match '^[\d.]+$' } | Select-Object -Last 1)); ProcessWall = $m.Wall; RssKB = $m.MaxRssKB }
    }
    $importMs = Get-Median $importRuns.Ms
    # The floor of any scheduled run: a pwsh that starts and exits (whole process, wall and CPU).
    $bareRuns = foreach ($i in 1..$(if ($Quick) { 2 } else { 5 })) { Invoke-Measured -Name "bare-$i" -Command (@($pwsh) + @('-NoProfile', '-NonInteractive', '-Command', 'exit')) }
    $bareWall = Get-Median $bareRuns.Wall
    $bareCpu = Get-Median ($bareRuns | ForEach-Object { $_.User + $_.Sys })
    Write-Step ("A pwsh that starts and exits: median {0:N2} s wall, {1:N2} s CPU" -f $bareWall, $bareCpu)
    $idleRssMB = (Get-Median $importRuns.RssKB) / 1024
    Write-Step ("Module import: median {0:N0} ms (runs: {1}); a pwsh that only imports the module peaks at {2:N0} MB RSS" -f $importMs, (($importRuns.Ms | ForEach-Object { '{0:N0}' -f $_ }) -join ', '), $idleRssMB)

    # 4. The mail server, and the measurements.
    $loadStart = Get-LoadAverage
    $null = New-Item -ItemType Directory -Path (Join-Path $work 'fsync')
    $fsyncMs = Measure-FsyncLatency (Join-Path $work 'fsync')
    Write-Step ("Load average {0}; fsync of a new 4 KB file: median {1:N1} ms" -f $loadStart, $fsyncMs)
    # Shared folders for ra-imap-shared-native; '/' between folder levels in every namespace (doveadm names below too).
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test' -Root (Join-Path $work 'mail') -SharedFolders
    $env:BENCH_REPLIES_PW = $server.Users['replies@example.test']
    $env:BENCH_INBOUND_PW = $server.Users['inbound@example.test']
    $env:BENCH_IMAP_HOST = $server.ImapHost
    $env:BENCH_IMAP_PORT = "$($server.ImapPort)"
    $env:BENCH_IMAP_USER = 'replies@example.test'
    $env:BENCH_IMAP_THUMBPRINT = $server.CertificateThumbprint
    $fsync = (Invoke-TestMailNative -FilePath 'doveconf' -ArgumentList '-c', $server.DovecotConfig, '-h', 'mail_fsync')
    Write-Step "Dovecot $((& dovecot --version) -join '') on 127.0.0.1:$($server.ImapPort) (implicit TLS, mail_fsync = $fsync); mbsync $((& mbsync --version) -join '')"

    $order = @('mbsync', 'doveadm', 'mbsync-imap', 'mailkit', 'multiappend', 'ra-md-incl', 'ra-md-incl-1', 'ra-md-excl', 'ra-imap-excl', 'ra-imap-same', 'ra-md-incl-proc', 'ra-md-incl-run', 'ra-imap-excl-run', 'ra-idle', 'ra-idle-md', 'ra-idle-run', 'ra-idle-md-run', 'ra-md-incl-native', 'ra-imap-excl-native', 'ra-imap-shared-native', 'ra-idle-native', 'ra-idle-md-native', 'ra-watch') | Where-Object { $_ -in $Scenario -or ($_ -eq 'doveadm' -and ('ra-imap-excl' -in $Scenario -or 'mbsync-imap' -in $Scenario)) }
    $script:Inbound = @{}
    $rows = [System.Collections.Generic.List[object]]::new()
    $budgetNote = ''
    for ($rep = 1; $rep -le $Repetitions; $rep++) {
        $repStart = $clock.Elapsed
        if ($rep -gt 1 -and $TimeBudgetMinutes -gt 0 -and ($clock.Elapsed + $lastRep).TotalMinutes -gt $TimeBudgetMinutes) {
            $budgetNote = "Stopped after $($rep - 1) of $Repetitions repetitions: another would end after the time budget of $TimeBudgetMinutes min (-TimeBudgetMinutes 0 lifts it)."
            Write-Step $budgetNote
            break
        }
        foreach ($set in $sets) {
            foreach ($key in $order) {
                # An idle run does not depend on the set: measured once per repetition, with the first set.
                if ($key -like 'ra-idle*' -and $set -ne $sets[0]) { continue }
                $row = Invoke-Scenario -Key $key -Set $set -Rep $rep
                $rows.Add($row)
                Write-Step ("rep {0}/{1} {2,-5} {3,-12} {4,7:N2} s {5,8:N0} msgs/s {6,7:N1} MB/s  client CPU {7,6:N2} s  Dovecot CPU {8,6:N2} s  peak RSS {9,5:N0} MB {10}" -f
                    $rep, $Repetitions, $set.Name, $key, $row.Seconds, ($row.Messages / $row.Seconds), ($row.Bytes / 1MB / $row.Seconds), $row.ClientCpu, $row.DovecotCpu, ($row.PeakRssKB / 1024),
                    $(if ($null -ne $row.BodyCount) { "bodies sent $($row.BodyCount) ($('{0:N1}' -f ($row.BodyBytes / 1MB)) MB) " } else { '' }) + $row.Note)
            }
        }
        $lastRep = $clock.Elapsed - $repStart
    }
    $repsDone = @($rows | Select-Object -ExpandProperty Rep -Unique).Count
    $hostRows = @(if ($HostCounts -and $smallSet) { Measure-HostsScaling -Set $smallSet -Counts $HostCounts -Shards $HostShards })

    # Optional: the same with fsync switched off in Dovecot, to see what waiting for the disk costs.
    $probeRows = [System.Collections.Generic.List[object]]::new()
    if (-not $SkipFsyncProbe -and $smallSet) {
        Add-Content -LiteralPath $server.DovecotConfig -Value "`nmail_fsync = never"
        $null = Invoke-Doveadm @('reload')
        Start-Sleep -Seconds 2
        Write-Step "Fsync probe: Dovecot reloaded with mail_fsync = $(Invoke-TestMailNative -FilePath 'doveconf' -ArgumentList '-c', $server.DovecotConfig, '-h', 'mail_fsync')"
        foreach ($key in @('mbsync', 'ra-md-incl') | Where-Object { $_ -in $Scenario }) {
            $row = Invoke-Scenario -Key $key -Set $smallSet -Rep 99
            $probeRows.Add($row)
            Write-Step ("fsync=never {0,-12} {1,7:N2} s {2,8:N0} msgs/s  client CPU {3,6:N2} s  Dovecot CPU {4,6:N2} s" -f $key, $row.Seconds, ($row.Messages / $row.Seconds), $row.ClientCpu, $row.DovecotCpu)
        }
    }

    # --- the table -----------------------------------------------------------------------------------------------
    $labels = @{
        'mbsync' = 'mbsync (isync) push, Maildir'; 'doveadm' = 'doveadm import (local, no IMAP)'; 'mailkit' = 'MailKit, one APPEND each'
        'multiappend' = "MailKit MULTIAPPEND $MultiAppendBatch/command"; 'ra-md-incl' = 'ReplyAdmin Maildir, Include'
        'ra-md-incl-1' = 'ReplyAdmin Maildir, Include, 1 conn'
        'ra-md-excl' = 'ReplyAdmin Maildir, Exclude'; 'ra-imap-excl' = 'ReplyAdmin IMAP source, Exclude'
        'mbsync-imap' = 'mbsync (isync) IMAP to IMAP'; 'ra-imap-same' = 'ReplyAdmin IMAP same account, Excl.'
        'ra-md-incl-proc' = 'ReplyAdmin Maildir, Incl., process'; 'ra-idle' = 'ReplyAdmin idle run, IMAP, process'
        'ra-idle-md' = 'ReplyAdmin idle run, Maildir, process'; 'ra-watch' = 'ReplyAdmin IMAP, resident -Watch, Excl.'
        'ra-md-incl-run' = 'ReplyAdmin Maildir, Incl., runner'; 'ra-imap-excl-run' = 'ReplyAdmin IMAP source, Excl., runner'
        'ra-idle-run' = 'ReplyAdmin idle run, IMAP, runner'; 'ra-idle-md-run' = 'ReplyAdmin idle run, Maildir, runner'
        'ra-md-incl-native' = 'ReplyAdmin Maildir, Incl., native'; 'ra-imap-excl-native' = 'ReplyAdmin IMAP source, Excl., native'
        'ra-imap-shared-native' = 'ReplyAdmin IMAP shared, Excl., native'
        'ra-idle-native' = 'ReplyAdmin idle run, IMAP, native'; 'ra-idle-md-native' = 'ReplyAdmin idle run, Maildir, native'
    }
    $summary = foreach ($set in $sets) {
        $base = $null
        foreach ($key in $order) {
            $r = @($rows | Where-Object { $_.Set -eq $set.Name -and $_.Key -eq $key })
            if ($r.Count -eq 0) { continue }
            $seconds = Get-Median $r.Seconds
            $line = [pscustomobject]@{
                Set = $set.Name; Key = $key; Mode = $labels[$key]; Seconds = $seconds
                MsgsPerSec = $set.Count / $seconds; MBPerSec = $set.Bytes / 1MB / $seconds
                ClientCpu = Get-Median $r.ClientCpu; DovecotCpu = Get-Median $r.DovecotCpu
                PeakRssMB = ($r.PeakRssKB | Measure-Object -Maximum).Maximum / 1024
                Stored = Get-Median $r.Stored; Expected = $r[0].Expected
                Bodies = if ($null -ne $r[0].BodyCount) { '{0:N0} ({1:N1} MB)' -f (Get-Median $r.BodyCount), ((Get-Median $r.BodyBytes) / 1MB) } else { '' }
                Notes = (@($r.Note | Where-Object { $_ }) | Sort-Object -Unique) -join '; '
                Ratio = $null
                RatioImap = $null
                JitSeconds = if ($null -ne $r[0].JitSeconds) { Get-Median $r.JitSeconds } else { $null }
                AllocatedMB = if ($null -ne $r[0].AllocatedMB) { Get-Median $r.AllocatedMB } else { $null }
            }
            if ($key -eq 'mbsync') { $base = $line }
            $line
        }
    }
    foreach ($line in $summary) {
        $base = $summary | Where-Object { $_.Set -eq $line.Set -and $_.Key -eq 'mbsync' } | Select-Object -First 1
        if ($base) { $line.Ratio = $line.MsgsPerSec / $base.MsgsPerSec }
        # The IMAP-source rows against the fair anchor of that path: mbsync copying IMAP to IMAP.
        $imapBase = $summary | Where-Object { $_.Set -eq $line.Set -and $_.Key -eq 'mbsync-imap' } | Select-Object -First 1
        if ($imapBase -and ($line.Key -like '*imap*' -or $line.Key -eq 'ra-watch')) { $line.RatioImap = $line.MsgsPerSec / $imapBase.MsgsPerSec }
        if ($line.Key -like 'ra-idle*') { $line.Ratio = $null; $line.MsgsPerSec = 0; $line.MBPerSec = 0 }
    }

    Write-Host ''
    Write-Host ("ReplyAdmin benchmark: {0} on {1} cores, Dovecot {2} (mail_fsync = {3}), implicit TLS on loopback; seed {4}; medians of {5} repetition(s), interleaved; {6:N0} s in all." -f
        [Environment]::MachineName, [Environment]::ProcessorCount, ((& dovecot --version) -join ''), $fsync, $Seed, $repsDone, $clock.Elapsed.TotalSeconds)
    if ($budgetNote) { Write-Host $budgetNote }
    foreach ($set in $sets) {
        Write-Host ("{0} set: {1:N0} messages, {2:N1} MB (largest {3:N2} MB), {4:N0} generated as auto-generated ({5:P0}), {6:N0} classified so by Get-ReplyClassification (body read for {7:N0})." -f
            $set.Name, $set.Count, ($set.Bytes / 1MB), ($set.Largest / 1MB), $set.AutoGenerated, ($set.AutoGenerated / [math]::Max(1, $set.Count)), $set.ClassifiedAuto, $set.BodyRead)
    }
    Write-Host ("msgs/s and MB/s count every message of the set (stored or filtered); MB = 2^20 bytes. Machine: load average {0} at the start, {1} at the end; fsync of a new 4 KB file in the mail directory: median {2:N1} ms." -f
        $loadStart, (Get-LoadAverage), $fsyncMs)
    $fmt = '{0,-6} {1,-36} {2,9} {3,8} {4,9} {5,10} {6,9} {7,9} {8,9} {9,9} {10,11} {11}'
    Write-Host ''
    Write-Host ($fmt -f 'set', 'tool / mode', 'msgs/s', 'MB/s', 'x mbsync', 'x mbs-imap', 'wall s', 'cli CPU', 'dov CPU', 'peak RSS', 'stored', 'bodies fetched / notes')
    Write-Host ($fmt -f '---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---')
    foreach ($line in $summary) {
        Write-Host ($fmt -f $line.Set, $line.Mode, ('{0:N0}' -f $line.MsgsPerSec), ('{0:N1}' -f $line.MBPerSec),
            $(if ($null -ne $line.Ratio) { '{0:N2}x' -f $line.Ratio } else { '' }), $(if ($null -ne $line.RatioImap) { '{0:N2}x' -f $line.RatioImap } else { '' }), ('{0:N2}' -f $line.Seconds), ('{0:N2} s' -f $line.ClientCpu),
            ('{0:N2} s' -f $line.DovecotCpu), ('{0:N0} MB' -f $line.PeakRssMB), ('{0:N0}/{1:N0}' -f $line.Stored, $line.Expected), (($line.Bodies, $line.Notes | Where-Object { $_ }) -join '; '))
    }
    Write-Host ''
    Write-Host 'x mbs-imap: the IMAP-source rows against mbsync copying IMAP to IMAP. Rows marked "process" are whole pwsh processes (start, import, run).'
    Write-Host 'cli CPU: CPU seconds of the process doing the work (for pwsh children: during the workload only); dov CPU: all Dovecot processes.'
    Write-Host ('peak RSS: whole process (pwsh children include PowerShell itself: an idle pwsh with the module peaks at {0:N0} MB); stored: messages in the destination / expected.' -f $idleRssMB)
    $paired = foreach ($line in $summary | Where-Object { $_.Key -like 'ra-*' -and $_.Key -notlike 'ra-idle*' }) {
        $lists = foreach ($anchorKey in 'mbsync', 'mbsync-imap') {
            if ($anchorKey -eq 'mbsync-imap' -and -not ($line.Key -like '*imap*' -or $line.Key -eq 'ra-watch')) { continue }
            $ratios = @(Get-PairedRatio $rows $line.Set $line.Key $anchorKey)
            if ($ratios.Count -gt 1) { 'x {0}: {1}' -f $anchorKey, (($ratios | ForEach-Object { '{0:N2}' -f $_ }) -join ', ') }
        }
        if ($lists) { '{0,-6} {1,-36} {2}' -f $line.Set, $line.Mode, ($lists -join '; ') }
    }
    if ($paired) {
        Write-Host ''
        Write-Host 'Ratios per repetition, each against the mbsync run of the same repetition (the table gives the ratio of the medians):'
        $paired | ForEach-Object { Write-Host $_ }
    }
    Write-Host ''
    Write-Host 'Where the time goes (medians): CPU per message in the client and in Dovecot, and the share of the wall time in which'
    Write-Host 'neither computed (waiting: fsync, latency, or other load on the machine); JIT and allocations of the pwsh children.'
    $dfmt = '{0,-6} {1,-34} {2,12} {3,12} {4,9} {5,9} {6,12}'
    Write-Host ($dfmt -f 'set', 'tool / mode', 'cli ms/msg', 'dov ms/msg', 'waiting', 'JIT s', 'alloc MB')
    foreach ($line in $summary) {
        $busy = ($line.ClientCpu + $line.DovecotCpu) / $line.Seconds
        $count = ($sets | Where-Object Name -EQ $line.Set).Count
        Write-Host ($dfmt -f $line.Set, $line.Mode, ('{0:N2}' -f (1000 * $line.ClientCpu / $count)), ('{0:N2}' -f (1000 * $line.DovecotCpu / $count)),
            ('{0:P0}' -f [math]::Max(0.0, 1.0 - $busy)), $(if ($null -ne $line.JitSeconds) { '{0:N2}' -f $line.JitSeconds } else { '' }),
            $(if ($null -ne $line.AllocatedMB) { '{0:N0}' -f $line.AllocatedMB } else { '' }))
    }
    $idleRows = @($rows | Where-Object { $_.Key -like 'ra-idle*' -and $_.PSObject.Properties['Phases'] -and $_.Phases })
    if ($idleRows) {
        Write-Host ''
        Write-Host 'An idle scheduled run in parts (Measure-IdleRun.ps1, one more fresh process per repetition; medians): wall ms / CPU ms / JIT-compiled methods.'
        $parts = 'start', 'import', 'config', 'open', 'finish', 'warm'
        Write-Host (('{0,-38}' -f 'mode') + (($parts | ForEach-Object { '{0,19}' -f $_ }) -join ''))
        foreach ($key in @($idleRows.Key | Select-Object -Unique)) {
            $these = @($idleRows | Where-Object Key -EQ $key)
            $cells = foreach ($part in $parts) {
                $values = @($these | ForEach-Object { $_.Phases.$part } | Where-Object { $_ })
                if ($values) { '{0,19}' -f ('{0:N0} / {1:N0} / {2:N0}' -f (Get-Median $values.WallMs), (Get-Median $values.CpuMs), (Get-Median $values.Jit)) } else { '{0,19}' -f '' }
            }
            Write-Host (('{0,-38}' -f $labels[$key]) + ($cells -join ''))
        }
        Write-Host 'start: process start to the first script line; config: reading the configuration; open: the run until the source and the reply folder are open, at once (for IMAP each: TCP, TLS, login, SELECT; the lease), and the waiting messages listed; finish: the rest; warm: the same idle run again in that process (what a resident -Watch process pays for a look), not part of the scheduled run.'
    }
    Write-Host ''
    if ($classification) {
        Write-Host ("Classification (header-only, {0:N0} small messages): {1:N0} msgs/s through Get-ReplyClassification -LiteralPath, {2:N0} msgs/s in a compiled engine loop; {3:N0} classified auto-generated (generated as such: {4:N0})." -f
            $classification.Count, $classification.CmdletRate, $classification.LoopRate, $classification.Auto, $classification.Generated)
    }
    Write-Host ("Module import: median {0:N0} ms over {1} fresh processes. A pwsh that only starts and exits: median {2:N2} s wall, {3:N2} s CPU (the floor of every 'process' row)." -f $importMs, @($importRuns).Count, $bareWall, $bareCpu)
    foreach ($row in $probeRows) {
        $normal = $summary | Where-Object { $_.Set -eq 'small' -and $_.Key -eq $row.Key } | Select-Object -First 1
        if ($normal) {
            Write-Host ("mail_fsync = never: {0} {1:N0} msgs/s (with fsync: {2:N0}; {3:N2}x)" -f $labels[$row.Key], ($row.Messages / $row.Seconds), $normal.MsgsPerSec, (($row.Messages / $row.Seconds) / $normal.MsgsPerSec))
        }
    }
    if ($hostRows) {
        Write-Host ''
        Write-Host ("Several hosts on one sharded IMAP source (small set, {0} shards + the source folder, each host a pwsh of its own, started together; {1} cores):" -f $HostShards, [Environment]::ProcessorCount)
        $hfmt = '{0,6} {1,9} {2,9} {3,10} {4,-28} {5,-22} {6,9} {7,9}'
        Write-Host ($hfmt -f 'hosts', 'msgs/s', 'x 1 host', 'wall s', 'CPU s per host', 'messages per host', 'dov CPU', 'stored')
        $one = $hostRows | Where-Object Hosts -EQ 1 | Select-Object -First 1
        foreach ($h in $hostRows) {
            Write-Host ($hfmt -f $h.Hosts, ('{0:N0}' -f $h.MsgsPerSec), $(if ($one) { '{0:N2}x' -f ($h.MsgsPerSec / $one.MsgsPerSec) } else { '' }), ('{0:N2}' -f $h.Seconds),
                ($h.HostCpu -join ' / '), ($h.HostMessages -join ' / '), ('{0:N2} s' -f $h.DovecotCpu), ('{0}/{1}' -f $h.Stored, $h.Messages))
        }
    }
    if ($PassThru) {
        [pscustomobject]@{ Hosts = $hostRows; Summary = @($summary); Runs = @($rows); FsyncProbe = @($probeRows); Classification = $classification; ImportMs = $importMs; IdleRssMB = $idleRssMB; BarePwshSeconds = $bareWall }
    }
}
finally {
    if ($script:CurrentChild -and -not $script:CurrentChild.HasExited) { try { $script:CurrentChild.Kill($true) } catch { } }
    if ($server) {
        try { Stop-TestMailServer -Server $server } catch { Write-Warning "Stopping the test mail server failed: $_" }
    }
    foreach ($name in $envNames) { Remove-Item -LiteralPath "env:$name" -ErrorAction SilentlyContinue }
    if ($work -and -not $KeepWorkDirectory -and (Test-Path -LiteralPath $work)) {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    } elseif ($work) {
        Write-Host "Work directory kept: $work"
    }
}
