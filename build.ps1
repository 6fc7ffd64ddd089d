#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks the ReplyAdmin module.
.DESCRIPTION
    Build  compiles the engine, the cmdlets and the runner (scheduled runs without PowerShell) and lays out the module in
           out/ReplyAdmin, with ReadyToRun code for the .NET of the PowerShell running this script and this machine's
           platform (-NoReadyToRun: IL only).
    Test   builds, then runs the Pester suite (unit and integration) against real Dovecot and Postfix
           servers that the tests start on loopback. Installs Dovecot/Postfix with apt-get when missing.
    Demo   builds, starts Dovecot and Postfix, configures two lists and shows the main job end to end.
    Bench  builds and measures throughput and memory against Dovecot, side by side with mbsync.
    Package builds, then packs the laid-out module as out/ReplyAdmin.<version>.nupkg (what Publish-PSResource and
           Install-PSResource take). The version is ModuleVersion in ReplyAdmin.psd1 unless -Version says otherwise;
           the release notes are that version's section of CHANGELOG.md.
    Run it with the PowerShell of the repo's tool manifest:  dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Test -Tag Unit
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester tags to run or to leave out (Unit, Integration).
    [string[]] $Tag,
    [string[]] $ExcludeTag,

    # Test files or folders to run instead of the whole tests folder.
    [string[]] $TestPath,

    # Build this version instead of ReplyAdmin.psd1's ModuleVersion (stamped into the laid-out manifest and the assemblies).
    [version] $Version,

    # Release notes for the package instead of the version's CHANGELOG.md section (e.g. for a test build).
    [string] $ReleaseNotes,

    # Where the module is laid out (<OutputPath>/ReplyAdmin) and packed; default: out/ beside this script.
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out'),

    # Lay out plain IL only: no ReadyToRun code for the building PowerShell's .NET (tools/ReadyToRun/ReadyToRun.csproj).
    [switch] $NoReadyToRun,

    # No native runner (tools/NativeRunner/NativeRunner.csproj): a first build saves some 3 minutes of compiling, and
    # schedules start the runner with dotnet instead.
    [switch] $NoNative
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$OutputPath = [IO.Path]::GetFullPath($OutputPath)
$moduleOut = Join-Path $OutputPath 'ReplyAdmin'
# The one place the version is written: the manifest. Directory.Build.props reads it for the assemblies.
$manifestVersion = [version] (Import-PowerShellDataFile (Join-Path $root 'ReplyAdmin.psd1')).ModuleVersion
if (-not $Version) { $Version = $manifestVersion }

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    $publish = Join-Path $OutputPath 'publish'
    if (Test-Path $publish) { Remove-Item $publish -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/ReplyAdmin/ReplyAdmin.csproj'), '-c', $Configuration, '-o', $publish, "-p:Version=$Version",
        '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    # The runner (a scheduled run without PowerShell) beside them: its deps.json lets the .NET host prefer the platform's
    # own copies of System.* assemblies over the older ones the engine's packages bring.
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/ReplyAdmin.Runner/ReplyAdmin.Runner.csproj'), '-c', $Configuration, '-o', $publish, "-p:Version=$Version",
        '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    New-Item -ItemType Directory -Path $moduleOut | Out-Null
    # Only the cmdlet assembly sits beside the manifest (PowerShell's default load context); the engine and its
    # dependencies go to dependencies/, which the module loads into its own load context (EngineLoadContext.cs).
    Copy-Item (Join-Path $publish 'ReplyAdmin.dll') $moduleOut
    $dependencies = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'dependencies')
    Get-ChildItem $publish -Filter *.dll | Where-Object Name -ne 'ReplyAdmin.dll' | Copy-Item -Destination $dependencies
    Copy-Item (Join-Path $publish 'ReplyAdmin.Runner.runtimeconfig.json'), (Join-Path $publish 'ReplyAdmin.Runner.deps.json') $dependencies
    if (-not $NoReadyToRun) { Add-ReadyToRun -Publish $publish }
    if (-not $NoNative) { Add-NativeRunner }
    Copy-Item (Join-Path $root 'ReplyAdmin.psd1'), (Join-Path $root 'LICENSE') $moduleOut
    Set-ManifestRelease -Path (Join-Path $moduleOut 'ReplyAdmin.psd1')
    Copy-Item (Join-Path $root 'src/ReplyAdmin/*.format.ps1xml') $moduleOut
    Copy-Item (Join-Path $root 'src/ReplyAdmin/Start-ReplyProcessing.ps1') $moduleOut
    Copy-Item (Join-Path $root 'src/ReplyAdmin/ReplyAdmin.LoadContext.psm1') $moduleOut
    if (Get-ChildItem $moduleOut -Recurse -Filter 'System.Management.Automation.dll') {
        throw 'System.Management.Automation.dll must not ship with the module (PowerShellStandard.Library is a reference only).'
    }
    & (Join-Path $root 'tools/Build-Help.ps1') -DocsPath (Join-Path $root 'docs/help') -OutputPath (Join-Path $moduleOut 'en-US') -ModulePath (Join-Path $moduleOut 'ReplyAdmin.psd1')
    Write-Host "Module laid out in $moduleOut"
}

# Replaces the laid-out assemblies with copies that also hold ReadyToRun code for the .NET this PowerShell runs on
# and this machine's platform (see tools/ReadyToRun/ReadyToRun.csproj): a scheduled run then starts with less JIT.
function Add-ReadyToRun([string] $Publish) {
    $readyToRun = Join-Path $OutputPath 'readytorun'
    if (Test-Path $readyToRun) { Remove-Item $readyToRun -Recurse -Force }
    $framework = "net$([Environment]::Version.Major).0"
    $runtime = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    Invoke-Native dotnet @('publish', (Join-Path $root 'tools/ReadyToRun/ReadyToRun.csproj'), '-c', 'Release', '-o', $readyToRun, '-r', $runtime,
        "-p:TargetFramework=$framework", "-p:ModuleDirectory=$Publish", '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    foreach ($file in Get-ChildItem $readyToRun -Filter *.dll) {
        $target = if ($file.Name -eq 'ReplyAdmin.dll') { Join-Path $moduleOut $file.Name } else { Join-Path $moduleOut "dependencies/$($file.Name)" }
        if (Test-Path $target) { Copy-Item $file.FullName $target -Force }
    }
    Write-Host "ReadyToRun code for $framework ($runtime) added to the module's assemblies"
}

# The runner compiled to one native program for this machine's platform (tools/NativeRunner/NativeRunner.csproj), in
# dependencies/<platform>/ as ScheduledProgram.NativeRunnerPath expects it. NativeAOT compiles for the platform it runs
# on and links with the system's C toolchain; without one the module ships the runner for dotnet only. The compiled
# output stays in <OutputPath>/native between builds, so an unchanged engine is not compiled again.
function Add-NativeRunner {
    if (-not $IsLinux) { Write-Host 'No native runner: build.ps1 compiles it on Linux only; schedules start the runner with dotnet.'; return }
    $linker = @('clang', 'gcc') | Where-Object { Get-Command $_ -CommandType Application -ErrorAction Ignore } | Select-Object -First 1
    if (-not $linker) {
        Write-Warning 'No native runner: neither clang nor gcc is installed (apt-get install gcc); schedules start the runner with dotnet.'
        return
    }
    $platform = 'linux-' + [Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
    $native = Join-Path $OutputPath "native/$platform"
    Invoke-Native dotnet @('publish', (Join-Path $root 'tools/NativeRunner/NativeRunner.csproj'), '-c', 'Release', '-o', $native, '-r', $platform,
        "-p:Version=$Version", "-p:CppCompilerAndLinker=$linker", '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    $target = New-Item -ItemType Directory -Path (Join-Path $moduleOut "dependencies/$platform")
    Copy-Item (Join-Path $native 'ReplyAdmin.Runner') $target
    Write-Host "Native runner for $platform added (dependencies/$platform/ReplyAdmin.Runner)"
}

# The release notes of $Version: its '## <version>' section of CHANGELOG.md, else the '## Unreleased' one.
function Get-ReleaseNote {
    if ($ReleaseNotes) { return "$Version`n$ReleaseNotes" }
    $sections = [regex]::Matches((Get-Content (Join-Path $root 'CHANGELOG.md') -Raw), '(?ms)^## (?<head>[^\r\n]+)\r?\n(?<body>.*?)(?=^## |\z)')
    $section = @($sections | Where-Object { $_.Groups['head'].Value -match "^\[?$([regex]::Escape("$Version"))\b" }) +
        @($sections | Where-Object { $_.Groups['head'].Value -match '^\[?Unreleased\b' }) | Select-Object -First 1
    if (-not $section -or -not $section.Groups['body'].Value.Trim()) {
        throw "CHANGELOG.md has no section for $Version (nor an Unreleased one) with release notes: add '## $Version' with what changed."
    }
    "$Version`n" + $section.Groups['body'].Value.Trim()
}

# Stamps the version and the release notes into the laid-out manifest (the source manifest keeps its own version).
function Set-ManifestRelease([string] $Path) {
    $text = Get-Content $Path -Raw
    $text = $text -replace "(?m)^(\s*ModuleVersion\s*=\s*)'[^']*'", "`${1}'$Version'"
    $notes = (Get-ReleaseNote) -replace "'", "''"
    $text = $text -replace "(?m)^(\s*)ReleaseNotes\s*=\s*'[^']*'", "`${1}ReleaseNotes = '$($notes -replace '\$', '$$$$')'"
    Set-Content -Path $Path -Value $text -NoNewline
    $stamped = Import-PowerShellDataFile $Path
    if ($stamped.ModuleVersion -ne "$Version" -or -not $stamped.PrivateData.PSData.ReleaseNotes) { throw "Stamping $Path failed." }
}

# The laid-out module as a NuGet package, with nothing in it that should not ship.
function Invoke-Package {
    $package = Join-Path $OutputPath "ReplyAdmin.$Version.nupkg"
    if (Test-Path $package) { Remove-Item $package -Force }
    Compress-PSResource -Path $moduleOut -DestinationPath $OutputPath
    if (-not (Test-Path $package)) { throw "Compress-PSResource did not write $package." }
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [IO.Compression.ZipFile]::OpenRead($package)
    try { $entries = @($zip.Entries.FullName) } finally { $zip.Dispose() }
    # The runner's deps.json is the one that ships (see Invoke-Build).
    $unwanted = @($entries | Where-Object { $_ -match '\.pdb$|(^|/)tests?/|\.Tests\.ps1$|System\.Management\.Automation\.dll$|(?<!ReplyAdmin\.Runner)\.deps\.json$' })
    if ($unwanted) { throw "The package holds files that must not ship: $($unwanted -join ', ')" }
    Write-Host "Package: $package ($($entries.Count) entries)"
}

# Dovecot and Postfix (and gcc, which links the native runner) come from Debian packages; install them once when absent
# (needs root or sudo).
function Install-MailServer {
    $required = '/usr/sbin/dovecot', '/usr/lib/dovecot/lmtp', '/usr/sbin/postfix', '/usr/bin/openssl', '/usr/bin/mbsync',
        '/usr/sbin/clamd', '/usr/bin/rspamd', '/usr/sbin/dnsmasq', '/usr/bin/sieve-test', '/usr/share/publicsuffix/public_suffix_list.dat',
        '/usr/bin/gcc', '/usr/include/stdio.h'
    if (-not ($required | Where-Object { -not (Test-Path $_) })) { return }
    Write-Host 'Installing Dovecot, Postfix, OpenSSL, isync, the content scanners (clamd, rspamd, dnsmasq) and gcc (for the native runner) with apt-get...'
    $script = 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && apt-get update -qq && ' +
        'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-lmtpd dovecot-sieve postfix openssl isync clamav-daemon rspamd dnsmasq-base publicsuffix gcc libc6-dev'
    if ((& id -u) -eq '0') { Invoke-Native sh @('-c', $script) } else { Invoke-Native sudo @('sh', '-c', $script) }
}

function Get-PesterModule {
    Invoke-Native dotnet @('restore', (Join-Path $root 'tests/tools/Tools.csproj'), '--nologo', '-v', 'quiet')
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $version = ([xml](Get-Content (Join-Path $root 'tests/tools/Tools.csproj'))).Project.ItemGroup.PackageDownload.Version.Trim('[', ']')
    Join-Path $packages.Trim() "pester/$version/tools/Pester.psd1"
}

function Invoke-Test {
    $pester = Get-PesterModule
    Import-Module $pester -Force
    $env:REPLYADMIN_MODULE = Join-Path $moduleOut 'ReplyAdmin.psd1'
    $config = New-PesterConfiguration
    $config.Run.Path = if ($TestPath) { $TestPath } else { Join-Path $root 'tests' }
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    if ($Tag) { $config.Filter.Tag = $Tag }
    if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag }
    $result = Invoke-Pester -Configuration $config
    $failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    # Name what failed next to the closing line: CI keeps only the tail of a long log.
    foreach ($item in @($result.Failed) + @($result.FailedBlocks) + @($result.FailedContainers)) {
        $name = if ($item.ExpandedPath) { $item.ExpandedPath } elseif ($item.Item) { "$($item.Item)" } else { "$($item.Name)" }
        $reason = @($item.ErrorRecord | Select-Object -First 1 | ForEach-Object { "$($_.Exception.Message)" -split "`n" | Select-Object -First 3 }) -join ' '
        Write-Host "Failed: $name -- $reason"
    }
    # The closing line CI reads.
    Write-Host ("{0} passed, {1} failed, {2} skipped" -f $result.PassedCount, $failed, $result.SkippedCount)
    if ($failed -gt 0 -or $result.PassedCount -eq 0) { exit 1 }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Install-MailServer; Invoke-Build; Invoke-Test }
    'Demo' { Install-MailServer; Invoke-Build; & (Join-Path $root 'tests/Support/Demo.ps1') -ModulePath (Join-Path $moduleOut 'ReplyAdmin.psd1') }
    'Package' { Invoke-Build; Invoke-Package }
    'Bench' { Install-MailServer; Invoke-Build; & (Join-Path $root 'tests/Benchmark/Invoke-Benchmark.ps1') -ModulePath (Join-Path $moduleOut 'ReplyAdmin.psd1') }
}
