<#
.SYNOPSIS
    Runs Invoke-ReplyProcessing once, for a scheduled task or a systemd timer; with -Watch, keeps running as a service.
.DESCRIPTION
    Prints one summary line on standard output and each per-message error on standard error, and ends with an
    exit code a scheduler can act on:
      0  every waiting message was handled
      1  the run finished, but some messages failed; they stay at the source and the next run retries them
      2  the run failed (configuration, credentials, a server that cannot be reached); nothing was lost
      3  another run is processing the same source; this run did nothing
    With -Watch the process stays (Invoke-ReplyProcessing -Watch): it waits for new replies (IMAP IDLE), handles
    them at once and prints a summary line per run and each error as it happens. Servers that cannot be reached and
    configuration errors met while watching are retried; it exits 2 only when it cannot start (e.g. no readable
    configuration) or meets an unexpected error. SIGTERM (systemctl stop, kill, docker stop) ends a run or the watch
    at its next step, with the lease given back: exit 0. Ctrl+C does the same; pwsh then decides the exit code. Even a
    kill mid-run loses nothing: the next start finishes what a run left.
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File /opt/ReplyAdmin/Start-ReplyProcessing.ps1 -ConfigPath /etc/replyadmin/config.json
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File /opt/ReplyAdmin/Start-ReplyProcessing.ps1 -ConfigPath /etc/replyadmin/config.json -Watch -WatchIntervalSeconds 300
#>
[CmdletBinding()]
param(
    [string] $ConfigPath,
    [int] $MaxMessages,
    [int] $TimeoutSeconds = 60,
    # Passed on to Invoke-ReplyProcessing when given.
    [int] $ThrottleLimit,
    [int] $MaxAttempts = -1,
    # Keep running: handle replies as they arrive; a run at least every -WatchIntervalSeconds.
    [switch] $Watch,
    [int] $WatchIntervalSeconds = 300
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Installed with Install-PSResource, the module sits in ReplyAdmin/<version>/, and Update-PSResource adds the new
# version beside the old one: a schedule registered under an older version runs the newest one installed.
$manifest = Join-Path $PSScriptRoot 'ReplyAdmin.psd1'
$installed = Split-Path $PSScriptRoot
if ((Split-Path $installed -Leaf) -eq 'ReplyAdmin' -and (Split-Path $PSScriptRoot -Leaf) -as [version]) {
    $newest = Get-ChildItem -LiteralPath $installed -Directory | Where-Object { ($_.Name -as [version]) -and (Test-Path (Join-Path $_.FullName 'ReplyAdmin.psd1')) } |
        Sort-Object { [version] $_.Name } -Descending | Select-Object -First 1
    if ($newest) { $manifest = Join-Path $newest.FullName 'ReplyAdmin.psd1' }
}
Import-Module $manifest

# The error id alone (FullyQualifiedErrorId without the command's name), as the lines a scheduler logs start with.
function Get-ErrorId([System.Management.Automation.ErrorRecord] $Record) { $Record.FullyQualifiedErrorId.Split(',')[0] }

$parameters = @{ Summary = $true; TimeoutSeconds = $TimeoutSeconds }
if ($ConfigPath) { $parameters.ConfigPath = $ConfigPath }
if ($MaxMessages -gt 0) { $parameters.MaxMessages = $MaxMessages }
if ($ThrottleLimit -gt 0) { $parameters.ThrottleLimit = $ThrottleLimit }
if ($MaxAttempts -ge 0) { $parameters.MaxAttempts = $MaxAttempts }
if ($Watch) {
    try {
        # Each summary and each per-message error is printed as it comes: a service's log shows them at once.
        Invoke-ReplyProcessing @parameters -Watch -WatchInterval ([TimeSpan]::FromSeconds($WatchIntervalSeconds)) -ErrorAction Continue 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine("$(Get-ErrorId $_): $_") }
            else { [Console]::Out.WriteLine($_.ToString()) }
        }
        exit 0
    }
    catch {
        [Console]::Out.WriteLine("ReplyAdmin watch stopped: $(Get-ErrorId $_): $($_.Exception.Message)")
        exit 2
    }
}
try {
    $failures = $null
    $summary = Invoke-ReplyProcessing @parameters -ErrorAction SilentlyContinue -ErrorVariable failures
    foreach ($failure in @($failures)) { [Console]::Error.WriteLine("$(Get-ErrorId $failure): $failure") }
    [Console]::Out.WriteLine($summary.ToString())
    exit $(if ($summary.Failed -gt 0) { 1 } else { 0 })
}
catch {
    $id = Get-ErrorId $_
    [Console]::Out.WriteLine("ReplyAdmin run did not complete: ${id}: $($_.Exception.Message)")
    exit $(if ($id -eq 'ProcessingAlreadyRunning') { 3 } else { 2 })
}
