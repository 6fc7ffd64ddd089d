#Requires -Version 7.0
Set-StrictMode -Version Latest

# What an administrator does, with the PowerShell of the tool manifest and no network: a file-system repository,
# the package published there, Install-PSResource into a fresh home, the quick start, Update-PSResource to a newer
# build, Uninstall-PSResource. Every step runs in a fresh pwsh whose HOME, XDG folders and module path are temporary.
BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test'
    $fixtures = Join-Path $PSScriptRoot 'fixtures/replies'
    $work = Split-Path (New-TestConfigPath)
    $adminHome = Join-Path $work 'home'
    $repository = Join-Path $work 'repository'
    # The folders a user's home has: .NET names no LocalApplicationData folder while ~/.local/share does not exist,
    # and PSResourceGet then keeps its repository list in the working directory.
    $null = New-Item -ItemType Directory -Path $repository, "$adminHome/.local/share", "$adminHome/.config", "$adminHome/.cache"
    # What the administrator is told about the servers (beside the repository folder).
    $server | Select-Object ImapHost, ImapPort, CertificateThumbprint | ConvertTo-Json | Set-Content (Join-Path $work 'server.json')

    # The two packages: the module this test run built, packed as build.ps1 -Task Package packs it, and a build of
    # the next patch version (a newer build of the same source).
    $pwsh = @(Get-PwshCommand)
    $oldVersion = [version] (Import-PowerShellDataFile $ModulePath).ModuleVersion
    $newVersion = [version]::new($oldVersion.Major, $oldVersion.Minor, $oldVersion.Build + 1)
    $package = @{}
    $null = New-Item -ItemType Directory -Path "$work/build-$oldVersion"
    Compress-PSResource -Path (Split-Path $ModulePath) -DestinationPath "$work/build-$oldVersion"
    $package["$oldVersion"] = Join-Path $work "build-$oldVersion/ReplyAdmin.$oldVersion.nupkg"
    $out = Join-Path $work "build-$newVersion"
    # The newer build is not in CHANGELOG.md: it gets release notes of its own. It has no native runner (-NoNative
    # saves 3 minutes of compiling): a native schedule registered under the older version then goes on with its own.
    $log = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot '../build.ps1') -Task Package `
        -Version $newVersion -OutputPath $out -ReleaseNotes "Test build newer than $oldVersion." -NoNative 2>&1
    if ($LASTEXITCODE -ne 0) { throw "build.ps1 -Task Package -Version $newVersion failed: $($log -join "`n")" }
    $package["$newVersion"] = Join-Path $out "ReplyAdmin.$newVersion.nupkg"

    # Runs a script as the administrator (fresh pwsh, temporary home); returns what it wrote to $env:ADMIN_RESULT.
    function Invoke-AdminStep([string] $Script) {
        $file = Join-Path $work ("step-" + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.ps1')
        Set-Content -LiteralPath $file -Value ("Set-StrictMode -Version Latest`n`$ErrorActionPreference = 'Stop'`n`$ProgressPreference = 'SilentlyContinue'`n" + $Script)
        $environment = @{
            HOME = $adminHome; XDG_DATA_HOME = "$adminHome/.local/share"; XDG_CONFIG_HOME = "$adminHome/.config"; XDG_CACHE_HOME = "$adminHome/.cache"
            PSModulePath = "$adminHome/.local/share/powershell/Modules"; REPLYADMIN_CONFIG = $null; REPLYADMIN_MODULE = $null
            ADMIN_RESULT = [IO.Path]::ChangeExtension($file, '.json'); ADMIN_REPOSITORY = $repository
            ADMIN_OLD = $package["$oldVersion"]; ADMIN_NEW = $package["$newVersion"]
            REPLYADMIN_IMAP_PASSWORD = $server.Users['replies@example.test']; REPLYADMIN_INBOUND_PASSWORD = $server.Users['inbound@example.test']
        }
        $saved = @{}
        foreach ($key in $environment.Keys) { $saved[$key] = [Environment]::GetEnvironmentVariable($key); [Environment]::SetEnvironmentVariable($key, $environment[$key]) }
        try {
            Push-Location $adminHome
            $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $file 2>&1
            Pop-Location
            if ($LASTEXITCODE -ne 0) { throw "The administrator's step failed (exit code $LASTEXITCODE): $($output -join "`n")" }
        }
        finally { foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) } }
        Get-Content -LiteralPath $environment.ADMIN_RESULT -Raw | ConvertFrom-Json
    }

    function Add-InboundReply([string] $Template, [string] $Token) {
        $text = [IO.File]::ReadAllText((Join-Path $fixtures "$Template.eml")) -replace 'Message-ID: <([^@>]+)@', "Message-ID: <`$1.$Token@"
        $file = Join-Path $work "$Template-$Token.eml"
        [IO.File]::WriteAllText($file, $text)
        Add-TestImapMessage -Server $server -User 'inbound@example.test' -Path $file
    }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
}

Describe 'Installing ReplyAdmin as a package' -Tag Integration {
    Context 'When the package is built' {
        It 'Holds the laid-out module and the gallery metadata, and nothing that should not ship' {
            Add-Type -AssemblyName System.IO.Compression.FileSystem
            $zip = [IO.Compression.ZipFile]::OpenRead($package["$oldVersion"])
            try {
                $entries = @($zip.Entries.FullName)
                $reader = [IO.StreamReader]::new(($zip.Entries | Where-Object FullName -EQ 'ReplyAdmin.nuspec').Open())
                [xml] $nuspec = $reader.ReadToEnd(); $reader.Dispose()
            }
            finally { $zip.Dispose() }
            foreach ($file in 'ReplyAdmin.psd1', 'ReplyAdmin.dll', 'LICENSE', 'Start-ReplyProcessing.ps1', 'dependencies/ReplyAdmin.Engine.dll', 'dependencies/MimeKit.dll', 'en-US/ReplyAdmin.dll-Help.xml',
                'dependencies/ReplyAdmin.Runner.dll', 'dependencies/ReplyAdmin.Runner.runtimeconfig.json', 'dependencies/ReplyAdmin.Runner.deps.json',
                ((Get-NativeRunnerPath).Substring((Split-Path $ModulePath -Resolve).Length + 1) -replace '\\', '/')) {
                $entries | Should -Contain $file
            }
            # The runner's deps.json is its only one: it lets the .NET host prefer the platform's System.* assemblies.
            $entries | Where-Object { $_ -match '\.pdb$|\.Tests\.ps1$|System\.Management\.Automation\.dll$|(?<!ReplyAdmin\.Runner)\.deps\.json$|^tests/' } | Should -BeNullOrEmpty
            $nuspec.package.metadata.version | Should -Be "$oldVersion"
            $nuspec.package.metadata.releaseNotes | Should -Match ([regex]::Escape("$oldVersion"))
            $nuspec.package.metadata.tags | Should -Match '\bIMAP\b'
        }
    }

    Context 'When an administrator installs it from a file-system repository and runs the quick start' {
        BeforeAll {
            Add-InboundReply human first
            Add-InboundReply out-of-office first
            $installed = Invoke-AdminStep @'
# No network: the temporary home knows only the folder repository.
if (Get-PSResourceRepository -Name PSGallery -ErrorAction Ignore) { Unregister-PSResourceRepository -Name PSGallery }
Register-PSResourceRepository -Name Local -Uri $env:ADMIN_REPOSITORY -Trusted
Publish-PSResource -NupkgPath $env:ADMIN_OLD -Repository Local
Install-PSResource ReplyAdmin
Import-Module ReplyAdmin
$server = Get-Content (Join-Path $env:ADMIN_REPOSITORY '../server.json') -Raw | ConvertFrom-Json
Set-ReplyMailbox -Server $server.ImapHost -Port $server.ImapPort -UserName 'replies@example.test' -Folder INBOX `
    -CredentialReference env:REPLYADMIN_IMAP_PASSWORD -CertificateThumbprint $server.CertificateThumbprint
Set-ReplySource -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
    -CredentialReference env:REPLYADMIN_INBOUND_PASSWORD -CertificateThumbprint $server.CertificateThumbprint
Add-ReplyList -Name newsletter -Address news@example.test
Set-ReplyListHandling -Name newsletter -AutoReplies Exclude
$connected = (Test-ReplyImapConnection).Succeeded
$results = @(Invoke-ReplyProcessing)
$schedule = Register-ReplyProcessingSchedule -Interval '00:05:00' -Platform Systemd -OutputPath (Join-Path $HOME 'schedule') -PassThru -InformationAction Ignore
$pwshSchedule = Register-ReplyProcessingSchedule -Name ReplyAdmin-pwsh -RunWith PowerShell -Platform Systemd -OutputPath (Join-Path $HOME 'schedule') -PassThru -InformationAction Ignore
$dotnetSchedule = Register-ReplyProcessingSchedule -Name ReplyAdmin-dotnet -RunWith DotNet -Platform Systemd -OutputPath (Join-Path $HOME 'schedule') -PassThru -InformationAction Ignore
$module = Get-Module ReplyAdmin
[pscustomobject]@{
    Version = "$($module.Version)"; ModuleBase = $module.ModuleBase; Connected = $connected
    Results = @($results | ForEach-Object { '{0} {1}' -f $_.Class, $_.Disposition } | Sort-Object)
    Command = $schedule.Command; RunWith = "$($schedule.RunWith)"; PwshCommand = $pwshSchedule.Command; DotNetCommand = $dotnetSchedule.Command
    ConfigPath = $schedule.ConfigPath; RunnerMode = "$((Get-Item $schedule.ScriptPath).UnixFileMode)"
} | ConvertTo-Json | Set-Content $env:ADMIN_RESULT
'@
            $script:scheduleCommands = @{ Native = $installed.Command; DotNet = $installed.DotNetCommand; PowerShell = $installed.PwshCommand }
        }

        It 'Registers a schedule that starts the native runner, made executable (a package keeps no execute bit)' {
            $installed.RunWith | Should -Be 'Native'
            $installed.Command[0] | Should -Be ((Get-NativeRunnerPath) -replace [regex]::Escape((Split-Path $ModulePath -Resolve)), (Join-Path $adminHome ".local/share/powershell/Modules/ReplyAdmin/$oldVersion"))
            $installed.RunnerMode | Should -BeLike '*UserExecute*'
        }

        It 'Registers -RunWith DotNet as the runner in the installed folder' {
            $installed.DotNetCommand[1] | Should -Be (Join-Path $adminHome ".local/share/powershell/Modules/ReplyAdmin/$oldVersion/dependencies/ReplyAdmin.Runner.dll")
        }

        It 'Installs into the administrator''s own module path and imports by name' {
            $installed.Version | Should -Be "$oldVersion"
            $installed.ModuleBase | Should -Be (Join-Path $adminHome ".local/share/powershell/Modules/ReplyAdmin/$oldVersion")
        }

        It 'Connects, processes the waiting replies and stores the person''s one' {
            $installed.Connected | Should -BeTrue
            $installed.Results | Should -Be @('AutoReply Exclude', 'Human Store')
            @(Get-TestImapMessage -Server $server -User 'replies@example.test').MessageId | Should -Be 'human-1.first@customer.test'
        }

        It 'Keeps the configuration in the administrator''s configuration folder, outside the module' {
            $installed.ConfigPath | Should -Be (Join-Path $adminHome '.config/replyadmin/config.json')
            Test-Path (Join-Path $adminHome '.config/replyadmin/journal') | Should -BeTrue
        }
    }

    Context 'When a newer build is installed with Update-PSResource' {
        BeforeAll {
            $configPath = Join-Path $adminHome '.config/replyadmin/config.json'
            $configBefore = Get-Content -LiteralPath $configPath -Raw
            Add-InboundReply human second
            $updated = Invoke-AdminStep @'
Publish-PSResource -NupkgPath $env:ADMIN_NEW -Repository Local
Update-PSResource ReplyAdmin
Import-Module ReplyAdmin
$journalBefore = @(Get-ReplyJournal)
$results = @(Invoke-ReplyProcessing)
[pscustomobject]@{
    Version = "$((Get-Module ReplyAdmin).Version)"
    Installed = @(Get-InstalledPSResource ReplyAdmin | ForEach-Object { "$($_.Version)" } | Sort-Object)
    Lists = @(Get-ReplyList | ForEach-Object Name); Handling = (Get-ReplyListHandling -Name newsletter).Setting
    JournalBefore = $journalBefore.Count; Results = @($results | ForEach-Object { '{0} {1}' -f $_.Class, $_.Disposition })
} | ConvertTo-Json | Set-Content $env:ADMIN_RESULT
'@
        }

        It 'Imports the newer version by name' {
            $updated.Version | Should -Be "$newVersion"
            $updated.Installed | Should -Contain "$newVersion"
        }

        It 'Reads the configuration the older version wrote, unchanged (same schema, so no conversion and no backup)' {
            $updated.Lists | Should -Be 'newsletter'
            $updated.Handling | Should -Be 'Store in IMAP (without auto-generated replies)'
            Get-Content -LiteralPath $configPath -Raw | Should -BeExactly $configBefore
            Get-ChildItem (Split-Path $configPath) -Filter 'config.json.v*.bak' | Should -BeNullOrEmpty
        }

        It 'Reads the older version''s journal and goes on processing' {
            $updated.JournalBefore | Should -BeGreaterOrEqual 2
            $updated.Results | Should -Be 'Human Store'
            @(Get-TestImapMessage -Server $server -User 'replies@example.test').MessageId | Should -Contain 'human-1.second@customer.test'
        }

        It 'Runs the schedule registered under the older version (<RunWith>), with <Answers>' -ForEach @(
            @{ RunWith = 'DotNet'; Token = 'third'; Answers = 'the newest version installed'; BannerVersion = 'new' }
            @{ RunWith = 'PowerShell'; Token = 'fourth'; Answers = 'the newest version installed'; BannerVersion = $null }
            @{ RunWith = 'Native'; Token = 'fifth'; Answers = 'its own version (the newer build has no native runner)'; BannerVersion = 'old' }
        ) {
            $command = $scheduleCommands[$RunWith]
            $command -join ' ' | Should -BeLike "*/ReplyAdmin/$oldVersion/*" -Because 'the schedule was registered under the older version'
            Add-InboundReply human $Token
            # The program's own -? banner says which installed version answers; then the run itself.
            $ran = Invoke-AdminStep @"
`$command = @($(($command | ForEach-Object { "'$($_ -replace "'", "''")'" }) -join ', '))
`$banner = if ('$RunWith' -ne 'PowerShell') { & `$command[0] @(`$command | Select-Object -Skip 1) -? | Select-Object -First 1 } else { '' }
`$output = & `$command[0] @(`$command | Select-Object -Skip 1) 2>&1
[pscustomobject]@{ ExitCode = `$LASTEXITCODE; Output = "`$output"; Banner = "`$banner" } | ConvertTo-Json | Set-Content `$env:ADMIN_RESULT
"@
            $ran.ExitCode | Should -Be 0
            $ran.Output | Should -Match '1 stored'
            if ($BannerVersion) { $ran.Banner | Should -BeLike "*/ReplyAdmin/$(if ($BannerVersion -eq 'new') { $newVersion } else { $oldVersion })/dependencies*" }
            @(Get-TestImapMessage -Server $server -User 'replies@example.test').MessageId | Should -Contain "human-1.$Token@customer.test"
        }
    }

    Context 'When the module is uninstalled' {
        It 'Removes every installed version and leaves the configuration and the journal in place' {
            $removed = Invoke-AdminStep @'
Get-InstalledPSResource ReplyAdmin | Uninstall-PSResource
[pscustomobject]@{ Left = @(Get-Module -ListAvailable ReplyAdmin).Count } | ConvertTo-Json | Set-Content $env:ADMIN_RESULT
'@
            $removed.Left | Should -Be 0
            Test-Path (Join-Path $adminHome '.config/replyadmin/config.json') | Should -BeTrue
            @(Get-ChildItem (Join-Path $adminHome '.config/replyadmin/journal') -Filter 'journal-*.jsonl').Count | Should -BeGreaterThan 0
        }
    }
}
