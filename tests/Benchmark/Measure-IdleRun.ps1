#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Where the time of one scheduled run goes, measured inside a fresh pwsh process (started by Invoke-Benchmark.ps1 for
    the idle runs): what Start-ReplyProcessing.ps1 does, in parts.
.DESCRIPTION
    Writes a JSON result to -ResultPath with one entry per part: wall milliseconds, CPU milliseconds of the process and
    JIT-compiled methods. The parts:
      start      process start to this script's first line (the runtime, PowerShell's own start, compiling this script)
      import     Import-Module ReplyAdmin
      config     reading and checking the configuration (Get-ReplyMailbox; the run reads it again, by then warm)
      open       Invoke-ReplyProcessing until the source and the reply folder are open (at once: for IMAP each a TCP
                 connection, TLS and a login; the lease, SELECT) and the run knows what waits at the source (the run's
                 verbose messages say when)
      finish     the rest of the run: nothing to handle, the summary, logout
      warm       the same idle run again in this process, the median of three (what a resident process, started with
                 -Watch, pays for a look that finds nothing; not part of a scheduled run)
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ConfigPath,
    [Parameter(Mandatory)] [string] $ResultPath
)
$self = [System.Diagnostics.Process]::GetCurrentProcess()
function Get-Mark {
    $self.Refresh()
    [pscustomobject]@{ Time = [DateTime]::UtcNow; Cpu = $self.TotalProcessorTime.TotalMilliseconds; Jit = [System.Runtime.JitInfo]::GetCompiledMethodCount($false) }
}
$marks = [ordered]@{ process = [pscustomobject]@{ Time = $self.StartTime.ToUniversalTime(); Cpu = 0.0; Jit = 0 } }
$marks.start = Get-Mark
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$marks.import = Get-Mark
$null = Get-ReplyMailbox -ConfigPath $ConfigPath
$marks.config = Get-Mark
# The run's verbose messages say when the source and the reply folder are open and the waiting messages known.
Invoke-ReplyProcessing -ConfigPath $ConfigPath -Summary -Verbose 4>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like '* messages wait at the source*') { $marks.open = Get-Mark }
}
$marks.finish = Get-Mark
$result = [ordered]@{}
$previous = $null
foreach ($name in $marks.Keys) {
    $mark = $marks[$name]
    if ($previous) { $result[$name] = [ordered]@{ WallMs = ($mark.Time - $previous.Time).TotalMilliseconds; CpuMs = $mark.Cpu - $previous.Cpu; Jit = $mark.Jit - $previous.Jit } }
    $previous = $mark
}
$warm = foreach ($i in 1..3) {
    $before = Get-Mark
    $null = Invoke-ReplyProcessing -ConfigPath $ConfigPath -Summary
    $after = Get-Mark
    [pscustomobject]@{ WallMs = ($after.Time - $before.Time).TotalMilliseconds; CpuMs = $after.Cpu - $before.Cpu; Jit = $after.Jit - $before.Jit }
}
$middle = @($warm | Sort-Object WallMs)[1]
$result.warm = [ordered]@{ WallMs = $middle.WallMs; CpuMs = $middle.CpuMs; Jit = $middle.Jit }
[System.IO.File]::WriteAllText($ResultPath, ($result | ConvertTo-Json -Depth 3))
