#!/usr/bin/env pwsh
<#
.SYNOPSIS
    One measured workload in its own process, started by Invoke-Benchmark.ps1 (so its peak RSS and CPU time are its own).
.DESCRIPTION
    Mode Process: Invoke-ReplyProcessing -ConfigPath <ConfigPath> -Summary (with -ThrottleLimit when given).
    Mode Append:  the plain MailKit baseline: APPEND every file of a Maildir into -Folder of the reply user, one command
                  each (-BatchSize 1) or MULTIAPPEND batches. Host, port, user, password and pinned SHA-256 thumbprint
                  come from the environment (BENCH_IMAP_HOST, BENCH_IMAP_PORT, BENCH_IMAP_USER, BENCH_REPLIES_PW,
                  BENCH_IMAP_THUMBPRINT), so no secret is on a command line.
    Writes a JSON result to -ResultPath: the measured seconds (the workload only, not PowerShell's start or the module
    import), the CPU seconds of this process during the workload, and the process's peak RSS (VmHWM).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [ValidateSet('Process', 'Append')] [string] $Mode,
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $ConfigPath,
    [string] $HelperPath,
    [string] $Maildir,
    [string] $Folder,
    [int] $BatchSize = 1,
    [int] $ThrottleLimit = 0
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# A scheduled task or pipeline has no progress bar either; rendering one per message would measure the console.
$ProgressPreference = 'SilentlyContinue'

Import-Module $ModulePath
if ($Mode -eq 'Append') {
    # The module's own MimeKit and MailKit files first, so the helper binds to them (a second load, in the default context).
    foreach ($dll in 'MimeKit.dll', 'MailKit.dll', 'ReplyAdmin.Engine.dll') { Add-Type -Path (Join-Path (Split-Path $ModulePath) "dependencies/$dll") }
    Add-Type -Path $HelperPath
}
$self = [System.Diagnostics.Process]::GetCurrentProcess()
[System.GC]::Collect()

$result = [ordered]@{ Mode = $Mode; Messages = 0; Summary = $null }
$cpuBefore = $self.TotalProcessorTime
$jitBefore = [System.Runtime.JitInfo]::GetCompilationTime($false)
$jitMethodsBefore = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
$gcBefore = [System.GC]::GetTotalAllocatedBytes($false)
$watch = [System.Diagnostics.Stopwatch]::StartNew()
switch ($Mode) {
    'Process' {
        $throttle = if ($ThrottleLimit -gt 0) { @{ ThrottleLimit = $ThrottleLimit } } else { @{} }
        $summary = Invoke-ReplyProcessing -ConfigPath $ConfigPath -Summary @throttle
        $watch.Stop()
        $result.Messages = $summary.Total
        $result.Summary = [ordered]@{
            Total = $summary.Total; Stored = $summary.Stored; Excluded = $summary.Excluded; Rejected = $summary.Rejected
            Unrouted = $summary.Unrouted; Failed = $summary.Failed; JournalPath = $summary.JournalPath
        }
    }
    'Append' {
        $client = [ReplyAdminBench.Baseline]::Connect($env:BENCH_IMAP_HOST, [int] $env:BENCH_IMAP_PORT, $env:BENCH_IMAP_USER, $env:BENCH_REPLIES_PW, $env:BENCH_IMAP_THUMBPRINT)
        try {
            $files = [ReplyAdminBench.Baseline]::Files($Maildir)
            $result.Messages = [ReplyAdminBench.Baseline]::Append($client, $Folder, $files, $BatchSize)
            $client.Disconnect($true)
        } finally { $client.Dispose() }
        $watch.Stop()
    }
}
$self.Refresh()
$result.Seconds = $watch.Elapsed.TotalSeconds
$result.CpuSeconds = ($self.TotalProcessorTime - $cpuBefore).TotalSeconds
$result.ProcessCpuSeconds = $self.TotalProcessorTime.TotalSeconds
# Where client CPU goes that is not the work itself: JIT compilation (methods and time) and allocations.
$result.JitSeconds = ([System.Runtime.JitInfo]::GetCompilationTime($false) - $jitBefore).TotalSeconds
$result.JitMethods = [System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $jitMethodsBefore
$result.AllocatedMB = ([System.GC]::GetTotalAllocatedBytes($false) - $gcBefore) / 1MB
$result.Gen2Collections = [System.GC]::CollectionCount(2)
$hwm = Select-String -LiteralPath '/proc/self/status' -Pattern '^VmHWM:\s+(\d+)' -ErrorAction SilentlyContinue
$result.PeakRssKB = if ($hwm) { [long] $hwm.Matches[0].Groups[1].Value } else { $null }
[System.IO.File]::WriteAllText($ResultPath, ($result | ConvertTo-Json -Depth 4))
