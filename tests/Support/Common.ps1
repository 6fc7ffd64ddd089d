# Shared by every test file: where the built module is, and how to start a fresh PowerShell.
Set-StrictMode -Version Latest

$script:ModulePath = if ($env:REPLYADMIN_MODULE) { $env:REPLYADMIN_MODULE } else { Join-Path $PSScriptRoot '../../out/ReplyAdmin/ReplyAdmin.psd1' }
$script:CorpusPath = Join-Path $PSScriptRoot '../../../shared/corpus'

# The PowerShell running the tests, as a command line (the NuGet tool runs as 'dotnet pwsh.dll').
function Get-PwshCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { @($process, (Join-Path $PSHOME 'pwsh.dll')) } else { @($process) }
}

# A new empty configuration file path in a fresh temp directory.
function New-TestConfigPath {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-test-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $dir | Out-Null
    Join-Path $dir 'config.json'
}
