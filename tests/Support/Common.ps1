# Shared by every test file: where the built module is, and how to start a fresh PowerShell.
Set-StrictMode -Version Latest

$script:ModulePath = if ($env:REPLYADMIN_MODULE) { $env:REPLYADMIN_MODULE } else { Join-Path $PSScriptRoot '../../out/ReplyAdmin/ReplyAdmin.psd1' }
$script:CorpusPath = Join-Path $PSScriptRoot '../../../shared/corpus'

# The PowerShell running the tests, as a command line (the NuGet tool runs as 'dotnet pwsh.dll').
function Get-PwshCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { @($process, (Join-Path $PSHOME 'pwsh.dll')) } else { @($process) }
}

# How a scheduler starts one run, its arguments to follow, as Register-ReplyProcessingSchedule writes it for -RunWith
# <Program>: Start-ReplyProcessing.ps1 in pwsh (PowerShell), the runner with dotnet (DotNet), or the runner compiled for
# this platform (Native).
function Get-ScheduledRunCommand([ValidateSet('PowerShell', 'DotNet', 'Native')] [string] $Program = 'PowerShell') {
    # Normalized (no '..'), as the module's own ModuleBase: callers compare it with the commands the module writes.
    $module = [IO.Path]::GetFullPath((Split-Path $ModulePath))
    switch ($Program) {
        'Native' { @(Get-NativeRunnerPath) }
        'DotNet' { @((Get-Command dotnet -CommandType Application | Select-Object -First 1).Source, (Join-Path $module 'dependencies/ReplyAdmin.Runner.dll')) }
        default { @(Get-PwshCommand) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $module 'Start-ReplyProcessing.ps1')) }
    }
}

# The native runner of the built module: dependencies/<platform>/ReplyAdmin.Runner, which build.ps1 compiles for the
# building machine on Linux where gcc or clang is installed (build.ps1 -Task Test installs gcc). Null when there is none.
function Get-NativeRunnerPath([string] $ModuleBase = [IO.Path]::GetFullPath((Split-Path $ModulePath))) {
    Get-ChildItem -Path (Join-Path $ModuleBase 'dependencies/*/ReplyAdmin.Runner*') -File -ErrorAction Ignore | Select-Object -First 1 -ExpandProperty FullName
}

# One scheduled run in a process of its own, waited for: its exit code and its output and error lines.
function Invoke-ScheduledRun([string] $Config, [string] $Program = 'PowerShell', [string[]] $Arguments = @('-TimeoutSeconds', '5')) {
    $command = @(Get-ScheduledRunCommand -Program $Program)
    $output = & $command[0] @($command | Select-Object -Skip 1) -ConfigPath $Config @Arguments 2>&1
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($output | ForEach-Object { "$_" }) }
}

# A new empty configuration file path in a fresh temp directory.
function New-TestConfigPath {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-test-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $dir | Out-Null
    Join-Path $dir 'config.json'
}

# A type of the engine or of its MailKit or MimeKit, e.g. (Get-ReplyAdminType MailKit.FolderAccess)::ReadOnly. They load
# in the module's own AssemblyLoadContext, which PowerShell's [TypeName] literals do not search. Import the module first.
function Get-ReplyAdminType([Parameter(Mandatory)] [string] $FullName) {
    $context = [Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -EQ 'ReplyAdmin' | Select-Object -First 1
    if (-not $context) { throw "Import ReplyAdmin before asking for $FullName`: its load context does not exist yet." }
    $assembly = if ($FullName -like 'ReplyAdmin.Engine.*') { 'ReplyAdmin.Engine' } else { $FullName.Split('.')[0] }
    $context.LoadFromAssemblyName([Reflection.AssemblyName]::new($assembly)).GetType($FullName, $true)
}
