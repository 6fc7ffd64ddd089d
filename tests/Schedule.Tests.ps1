#Requires -Version 7.0
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force

    function New-TempDirectory([string] $Name = 'replyadmin-schedule') {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ($Name + '-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $dir | Out-Null
        $dir
    }

    # Sections of a systemd unit file: @{ Service = @{ ExecStart = @('...') } }; comments and blank lines skipped.
    function ConvertFrom-UnitFile([string] $Text) {
        $sections = @{}
        $current = $null
        foreach ($line in $Text -split "`n") {
            $line = $line.TrimEnd("`r")
            if ($line -match '^\s*([#;].*)?$') { continue }
            if ($line -match '^\[(.+)\]$') { $current = @{}; $sections[$Matches[1]] = $current; continue }
            $key, $value = $line -split '=', 2
            if (-not $current.ContainsKey($key)) { $current[$key] = [Collections.Generic.List[string]]::new() }
            $current[$key].Add($value)
        }
        $sections
    }

    # Splits an ExecStart= value the way systemd does: words, "double quotes" with C escapes, %% and $$.
    function Split-SystemdCommand([string] $Line) {
        $words = [Collections.Generic.List[string]]::new()
        $i = 0
        while ($i -lt $Line.Length) {
            while ($i -lt $Line.Length -and $Line[$i] -eq ' ') { $i++ }
            if ($i -ge $Line.Length) { break }
            $word = [Text.StringBuilder]::new()
            if ($Line[$i] -eq '"') {
                $i++
                while ($Line[$i] -ne '"') {
                    if ($Line[$i] -eq '\') { $i++ }
                    [void]$word.Append($Line[$i]); $i++
                }
                $i++
            }
            else {
                while ($i -lt $Line.Length -and $Line[$i] -ne ' ') { [void]$word.Append($Line[$i]); $i++ }
            }
            $words.Add($word.ToString().Replace('%%', '%').Replace('$$', '$'))
        }
        , $words.ToArray()
    }

    # Splits the command of a crontab line the way cron and /bin/sh do: \% becomes %, then the shell parses the words.
    function Split-CronCommand([string] $Command) {
        $unescaped = $Command.Replace('\%', '%')
        , @(& sh -c "set -- $unescaped; for a in `"`$@`"; do printf '%s\n' `"`$a`"; done")
    }

    # What every scheduled run must execute: by default the native runner (the built module has one for this platform
    # and the test configuration no secret: reference); else the -Program given.
    function Get-ExpectedCommand([string] $Config, [string] $Program = 'Native') {
        @(Get-ScheduledRunCommand -Program $Program) + @('-ConfigPath', $Config)
    }

    # A configuration in a directory whose name needs quoting everywhere: a space, a quote, a percent and a dollar.
    $script:configDir = New-TempDirectory "replyadmin schedule 100% it's `$HOME"
    $script:config = Join-Path $configDir 'config.json'
    $script:secret = 'sched-Pa55-' + [guid]::NewGuid().ToString('N')
    $script:variable = 'REPLYADMIN_TEST_SCHEDULE_' + [guid]::NewGuid().ToString('N').Substring(0, 8).ToUpperInvariant()
    Set-Item "Env:$variable" $secret
    Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@example.test'
    Set-ReplyMailbox -ConfigPath $config -Server 'imap.example.net' -UserName 'replies@example.net' -Folder 'Replies' -CredentialReference "env:$variable"
}

AfterAll {
    Remove-Item "Env:$variable" -ErrorAction SilentlyContinue
}

Describe 'Register-ReplyProcessingSchedule' -Tag Unit {
    It 'Declares its output type' {
        (Get-Command Register-ReplyProcessingSchedule).OutputType.Name | Should -Be 'ReplyAdmin.Engine.Scheduling.ProcessingSchedule'
    }

    Context 'When writing systemd units into -OutputPath' -Skip:$IsWindows {
        BeforeAll {
            $units = Join-Path (New-TempDirectory) 'units'
            $result = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -PassThru -InformationAction Ignore
            $serviceText = Get-Content (Join-Path $units 'ReplyAdmin.service') -Raw
            $timerText = Get-Content (Join-Path $units 'ReplyAdmin.timer') -Raw
            $service = ConvertFrom-UnitFile $serviceText
            $timer = ConvertFrom-UnitFile $timerText
        }

        It 'Writes ReplyAdmin.service and ReplyAdmin.timer' {
            (Get-ChildItem $units).Name | Sort-Object | Should -Be @('ReplyAdmin.service', 'ReplyAdmin.timer')
        }

        It 'Makes the service a oneshot run of the runner with the absolute configuration path' {
            $service.Service.Type | Should -Be 'oneshot'
            $service.Service.ExecStart | Should -HaveCount 1
            $words = Split-SystemdCommand $service.Service.ExecStart[0]
            $words | Should -Be (Get-ExpectedCommand $config)
            [IO.Path]::IsPathRooted($words[0]) | Should -BeTrue
        }

        It 'Treats exit code 3 (another run busy) as success' {
            $service.Service.SuccessExitStatus | Should -Be '3'
        }

        It 'Starts the service 2 minutes after boot and then every 5 minutes' {
            $timer.Timer.OnBootSec | Should -Be '2min'
            $timer.Timer.OnUnitActiveSec | Should -Be '5min'
            $timer.Timer.Unit | Should -Be 'ReplyAdmin.service'
            $timer.Install.WantedBy | Should -Be 'timers.target'
        }

        It 'Sets no Persistent= (it only applies to calendar timers)' {
            $timer.Timer.Keys | Should -Not -Contain 'Persistent'
        }

        It 'Names every env: reference in the plan, the OAuth2 client secret and the DKIM key among them' {
            $oauthConfig = Join-Path (New-TempDirectory) 'config.json'
            # Set-ReplySmtpRelay reads the DKIM key to check it.
            $env:RA_TEST_DKIM_KEY = (& openssl genrsa 2048 2>$null) -join "`n"
            Add-ReplyList -ConfigPath $oauthConfig -Name 'news' -Address 'news@example.test'
            Set-ReplyMailbox -ConfigPath $oauthConfig -Server 'imap.example.net' -UserName 'replies@example.net' -Folder 'Replies' -Authentication OAuth2 `
                -TokenSource MicrosoftClientCredentials -ClientId 'app' -TenantId 'contoso.example' -ClientSecretReference 'env:RA_TEST_OAUTH_SECRET'
            Set-ReplySmtpRelay -ConfigPath $oauthConfig -Server 'smtp.example.net' -Port 587 -TlsMode StartTls -EnvelopeSender 'bounces@example.net' `
                -UserName 'relay' -CredentialReference 'env:RA_TEST_RELAY' -DkimDomain 'example.net' -DkimSelector 's1' -DkimKeyReference 'env:RA_TEST_DKIM_KEY'
            $plan = Register-ReplyProcessingSchedule -ConfigPath $oauthConfig -Platform Systemd -OutputPath (Join-Path (New-TempDirectory) 'units') -PassThru -WhatIf -InformationAction Ignore
            $plan.EnvironmentVariables | Should -Be @('RA_TEST_DKIM_KEY', 'RA_TEST_OAUTH_SECRET', 'RA_TEST_RELAY')
            Remove-Item Env:RA_TEST_DKIM_KEY
        }

        It 'Writes no password, and takes env: references from an EnvironmentFile instead of Environment= lines' {
            [Environment]::GetEnvironmentVariable($variable) | Should -Be $secret
            "$serviceText$timerText" | Should -Not -BeLike "*$secret*"
            $service.Service.Keys | Should -Not -Contain 'Environment'
            $service.Service.EnvironmentFile | Should -HaveCount 1
            $service.Service.EnvironmentFile[0] | Should -Match '^-/.+\.env$'
            $serviceText | Should -BeLike "*$variable*chmod 600*"
            $result.EnvironmentVariables | Should -Be @($variable)
            ($result | ConvertTo-Json -Depth 5) | Should -Not -BeLike "*$secret*"
        }

        It 'Returns what it created, without enabling the timer' {
            $result.Platform | Should -Be 'Systemd'
            $result.Interval | Should -Be ([TimeSpan]::FromMinutes(5))
            $result.Applied | Should -BeTrue
            $result.Enabled | Should -BeFalse
            $result.EnableCommand | Should -BeLike '*systemctl*enable --now ReplyAdmin.timer'
            $result.ConfigPath | Should -Be $config
            $result.Command | Should -Be (Get-ExpectedCommand $config)
            $result.Files.Path | Should -Be @((Join-Path $units 'ReplyAdmin.service'), (Join-Path $units 'ReplyAdmin.timer'))
            $result.Files[0].Content | Should -Be $serviceText
            $result.Files[1].Content | Should -Be $timerText
        }

        It 'Tells how to enable the timer' {
            $dir = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -InformationVariable info -InformationAction SilentlyContinue 6>$null
            ($info | ForEach-Object { "$_" }) -join "`n" | Should -BeLike '*systemctl*enable --now ReplyAdmin.timer*'
        }

        It 'Writes OnUnitActiveSec=<Expected> for an interval of <Interval>' -TestCases @(
            @{ Interval = '00:01:00'; Expected = '1min' }
            @{ Interval = '00:15:00'; Expected = '15min' }
            @{ Interval = '01:30:00'; Expected = '1h 30min' }
            @{ Interval = '00:02:30'; Expected = '2min 30s' }
            @{ Interval = '1.00:00:00'; Expected = '1d' }
        ) {
            param($Interval, $Expected)
            $dir = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -Interval ([TimeSpan]$Interval) -InformationAction Ignore
            (ConvertFrom-UnitFile (Get-Content (Join-Path $dir 'ReplyAdmin.timer') -Raw)).Timer.OnUnitActiveSec | Should -Be $Expected
        }

        It 'Names the units after -Name' {
            $dir = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -Name 'replies-eu' -InformationAction Ignore
            (Get-ChildItem $dir).Name | Sort-Object | Should -Be @('replies-eu.service', 'replies-eu.timer')
            (ConvertFrom-UnitFile (Get-Content (Join-Path $dir 'replies-eu.timer') -Raw)).Timer.Unit | Should -Be 'replies-eu.service'
        }

        It 'Replaces its own units when run again with another interval' {
            $dir = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -InformationAction Ignore
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -Interval '00:10:00' -InformationAction Ignore
            (ConvertFrom-UnitFile (Get-Content (Join-Path $dir 'ReplyAdmin.timer') -Raw)).Timer.OnUnitActiveSec | Should -Be '10min'
            (Get-ChildItem $dir).Name | Sort-Object | Should -Be @('ReplyAdmin.service', 'ReplyAdmin.timer')
        }

        It 'Resolves a relative -ConfigPath to an absolute path' {
            $dir = Join-Path (New-TempDirectory) 'units'
            Push-Location $configDir
            try { $relative = Register-ReplyProcessingSchedule -ConfigPath 'config.json' -Platform Systemd -OutputPath $dir -PassThru -InformationAction Ignore }
            finally { Pop-Location }
            $relative.ConfigPath | Should -Be $config
            (Split-SystemdCommand (ConvertFrom-UnitFile $relative.Files[0].Content).Service.ExecStart[0])[-1] | Should -Be $config
        }

        It 'Uses systemd on Linux with -Platform Auto' -Skip:(-not $IsLinux) {
            $dir = Join-Path (New-TempDirectory) 'units'
            (Register-ReplyProcessingSchedule -ConfigPath $config -OutputPath $dir -PassThru -InformationAction Ignore).Platform | Should -Be 'Systemd'
        }

        It 'Starts a run whose exit code follows the contract of a scheduled run' {
            # The configuration has no source, so the run fails cleanly (2); what matters is that the command starts it.
            $command = $result.Command
            $output = & $command[0] $command[1..($command.Count - 1)] 2>&1
            $LASTEXITCODE | Should -BeIn @(0, 1, 2, 3)
            ($output | Out-String) | Should -BeLike '*ReplyAdmin*'
            ($output | Out-String) | Should -Not -BeLike "*$secret*"
        }
    }

    Context 'When registering one resident process with -Watch' -Skip:$IsWindows {
        BeforeAll {
            $units = Join-Path (New-TempDirectory) 'units'
            $watchPlan = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -Watch -Interval '00:10:00' -OutputPath $units -PassThru -InformationAction Ignore
            $watchText = Get-Content (Join-Path $units 'ReplyAdmin.service') -Raw
            $watchService = ConvertFrom-UnitFile $watchText
        }

        It 'Writes a service and no timer' {
            (Get-ChildItem $units).Name | Should -Be @('ReplyAdmin.service')
            $watchPlan.Watch | Should -BeTrue
            $watchPlan.Files | Should -HaveCount 1
            $watchPlan.EnableCommand | Should -BeLike '*enable --now ReplyAdmin.service'
        }

        It 'Runs the runner with -Watch and the interval as its longest wait' {
            $words = Split-SystemdCommand $watchService.Service.ExecStart[0]
            $words | Should -Be ((Get-ExpectedCommand $config) + @('-Watch', '-WatchIntervalSeconds', '600'))
        }

        It 'Keeps the process running: started at boot, restarted when it fails' {
            $watchService.Service.Type | Should -Be 'simple'
            $watchService.Service.Restart | Should -Be 'on-failure'
            $watchService.Service.RestartSec | Should -Be '30s'
            $watchService.Service.Keys | Should -Not -Contain 'KillSignal' -Because 'systemctl stop sends SIGTERM, which ends the watch as Ctrl+C does'
            $watchService.Service.Keys | Should -Not -Contain 'SuccessExitStatus'
            $watchService.Install.WantedBy | Should -Be $(if ((id -u) -eq '0') { 'multi-user.target' } else { 'default.target' })
        }

        It 'Takes env: references from the EnvironmentFile and writes no password' {
            $watchText | Should -Not -BeLike "*$secret*"
            $watchService.Service.EnvironmentFile[0] | Should -Match '^-/.+\.env$'
        }

        It 'Names the timer of an earlier registration, which would start runs beside it' {
            $watchPlan.Notes -join "`n" | Should -BeLike '*disable --now ReplyAdmin.timer*'
        }

        It 'Refuses -Watch with cron with ScheduleWatchUnsupported' {
            $err = { Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -Watch -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleWatchUnsupported,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*cron*'
        }
    }

    Context 'When choosing what each run starts (-RunWith)' -Skip:$IsWindows {
        BeforeAll {
            $secretConfig = Join-Path (New-TempDirectory) 'config.json'
            Add-ReplyList -ConfigPath $secretConfig -Name 'news' -Address 'news@example.test'
            Set-ReplyMailbox -ConfigPath $secretConfig -Server 'imap.example.net' -UserName 'replies@example.net' -Folder 'Replies' -CredentialReference 'secret:ReplyMailbox'

            # A copy of the built module, to change as an installation may have it.
            function New-ModuleCopy {
                $copy = Join-Path (New-TempDirectory) 'ReplyAdmin'
                Copy-Item (Get-Module ReplyAdmin).ModuleBase $copy -Recurse
                $copy
            }

            # Runs $Command in a PowerShell of its own that imports the copy (this session has the module loaded), with
            # $config naming the test configuration in a plainly named folder; returns its output and error lines.
            function Invoke-InModuleCopy([string] $Copy, [string] $Command) {
                $plainConfig = Join-Path (New-TempDirectory) 'config.json'
                Copy-Item -LiteralPath $config $plainConfig
                $pwsh = @(Get-PwshCommand)
                @(& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command "Import-Module '$Copy/ReplyAdmin.psd1'; `$config = '$plainConfig'; $Command" 2>&1 |
                    ForEach-Object { "$_" })
            }
        }

        It 'Starts the native runner by default, and says so in -Verbose' {
            $plan = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -Verbose 4>&1 | Tee-Object -Variable records | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] }
            $plan.RunWith | Should -Be 'Native'
            $plan.ScriptPath | Should -Be (Get-NativeRunnerPath)
            $plan.Command | Should -Be (Get-ExpectedCommand $config)
            @($records | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like '*starts the native runner*' }) | Should -HaveCount 1
        }

        It 'Starts the runner with dotnet with -RunWith DotNet' {
            $plan = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -RunWith DotNet
            $plan.RunWith | Should -Be 'DotNet'
            $plan.ScriptPath | Should -Be (Join-Path (Get-Module ReplyAdmin).ModuleBase 'dependencies/ReplyAdmin.Runner.dll')
            $plan.Command | Should -Be (Get-ExpectedCommand $config DotNet)
        }

        It 'Makes a native runner that lost its execute bit executable, and with -WhatIf only says it would' {
            # As Install-PSResource leaves it: a package keeps no execute bit.
            $copy = New-ModuleCopy
            $native = Get-NativeRunnerPath -ModuleBase $copy
            & chmod 0644 $native
            $lines = Invoke-InModuleCopy $copy (@'
function Show($plan) {{ "$($plan.RunWith) $([Convert]::ToString([int] (Get-Item '{0}').UnixFileMode, 8))" }}
Show (Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -WhatIf)
Show (Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron)
'@ -f $native)
            $lines | Where-Object { $_ -like 'What if:*' } | Should -BeLike "*Make $native executable*"
            $lines | Where-Object { $_ -like 'Native *' } | Should -Be @('Native 644', 'Native 755')
        }

        It 'Starts the runner with dotnet where the installation has no native runner' {
            $copy = New-ModuleCopy
            Remove-Item (Split-Path (Get-NativeRunnerPath -ModuleBase $copy)) -Recurse
            Invoke-InModuleCopy $copy '(Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron).RunWith' | Should -Be 'DotNet'
        }

        It 'Starts PowerShell for a configuration with a secret: reference, and says why in -Verbose' {
            $plan = Register-ReplyProcessingSchedule -ConfigPath $secretConfig -Platform Cron -Verbose 4>&1 | Tee-Object -Variable records | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] }
            $plan.RunWith | Should -Be 'PowerShell'
            $plan.Command | Should -Be (Get-ExpectedCommand $secretConfig PowerShell)
            ($records | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join "`n" | Should -BeLike '*secret:ReplyMailbox*'
        }

        It 'Refuses -RunWith <RunWith> for a configuration with a secret: reference with ScheduleRunnerUnavailable and writes nothing' -ForEach @(
            @{ RunWith = 'DotNet'; Target = '*ReplyAdmin.Runner.dll' }
            @{ RunWith = 'Native'; Target = '*ReplyAdmin.Runner' }
        ) {
            $units = Join-Path (New-TempDirectory) 'units'
            $err = { Register-ReplyProcessingSchedule -ConfigPath $secretConfig -Platform Systemd -OutputPath $units -RunWith $RunWith -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleRunnerUnavailable,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.TargetObject | Should -BeLike $Target
            $err.Exception.Message | Should -BeLike '*secret:ReplyMailbox*'
            Test-Path $units | Should -BeFalse
        }

        It 'Starts PowerShell with -RunWith PowerShell' {
            $plan = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -RunWith PowerShell
            $plan.RunWith | Should -Be 'PowerShell'
            $plan.Command | Should -Be (Get-ExpectedCommand $config PowerShell)
        }

        It 'Passes the run arguments to the runner as to the script' {
            $plan = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -ThrottleLimit 2 -MaxAttempts 7
            $plan.Command | Should -Be ((Get-ExpectedCommand $config) + @('-ThrottleLimit', '2', '-MaxAttempts', '7'))
        }
    }

    Context 'When a newer version is installed beside the one a schedule starts' {
        BeforeAll {
            # Install-PSResource's layout: ReplyAdmin/<version>/, Update-PSResource adding the new version beside the old.
            $installed = Join-Path (New-TempDirectory) 'ReplyAdmin'
            foreach ($version in '1.0.0', '1.1.0') { Copy-Item (Get-Module ReplyAdmin).ModuleBase (Join-Path $installed $version) -Recurse }
            # The first line of '-?': the runner's version and folder.
            function Get-RunnerBanner([string] $Version, [string] $Program) {
                $runner = @(Get-ScheduledRunCommand -Program $Program) -replace [regex]::Escape((Get-Module ReplyAdmin).ModuleBase), (Join-Path $installed $Version)
                (& $runner[0] @($runner | Select-Object -Skip 1) -? | Select-Object -First 1)
            }
        }

        It 'Runs the newest <Program> runner installed, as Start-ReplyProcessing.ps1 runs the newest module' -ForEach @(@{ Program = 'DotNet' }, @{ Program = 'Native' }) {
            Get-RunnerBanner '1.0.0' $Program | Should -BeLike "*($(Join-Path $installed '1.1.0/dependencies')*"
        }

        It 'Runs itself when it is the newest (<Program>)' -ForEach @(@{ Program = 'DotNet' }, @{ Program = 'Native' }) {
            Get-RunnerBanner '1.1.0' $Program | Should -BeLike "*($(Join-Path $installed '1.1.0/dependencies')*"
        }
    }

    Context 'When run with -WhatIf' -Skip:$IsWindows {
        It 'Creates nothing and returns what it would create' {
            $dir = Join-Path (New-TempDirectory) 'units'
            $plan = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -PassThru -WhatIf -InformationAction Ignore
            Test-Path $dir | Should -BeFalse
            $plan.Applied | Should -BeFalse
            $plan.Enabled | Should -BeFalse
            $plan.Files.Path | Should -Be @((Join-Path $dir 'ReplyAdmin.service'), (Join-Path $dir 'ReplyAdmin.timer'))
            (ConvertFrom-UnitFile $plan.Files[1].Content).Timer.OnUnitActiveSec | Should -Be '5min'
        }

        It 'Creates no cron log or other file' {
            $before = @(Get-ChildItem $configDir).Name
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -WhatIf
            @(Get-ChildItem $configDir).Name | Should -Be $before
        }
    }

    Context 'When printing a cron line' -Skip:$IsWindows {
        BeforeAll {
            $cron = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron
        }

        It 'Returns the line without -PassThru and installs nothing' {
            $cron.Platform | Should -Be 'Cron'
            $cron.Applied | Should -BeFalse
            $cron.Files | Should -BeNullOrEmpty
            $cron.CronLine | Should -Not -BeNullOrEmpty
        }

        It 'Runs every 5 minutes and appends the output to a log next to the configuration' {
            $cron.CronLine | Should -Match '^\*/5 \* \* \* \* .+ >> .+ 2>&1$'
            $cron.LogPath | Should -Be (Join-Path $configDir 'ReplyAdmin.log')
            $log = ($cron.CronLine -replace '^.* >> (.+) 2>&1$', '$1')
            $words = Split-CronCommand $log
            $words | Should -Be @($cron.LogPath)
        }

        It 'Runs the same command as the systemd service, quoted for cron and sh' {
            $command = $cron.CronLine -replace '^(\S+ ){5}', '' -replace ' >> .+$', ''
            $command | Should -Not -Match '(?<!\\)%'
            $words = Split-CronCommand $command
            $words | Should -Be (Get-ExpectedCommand $config)
        }

        It 'Writes the log to -LogPath' {
            $log = Join-Path (New-TempDirectory) 'replies.log'
            (Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -LogPath $log).CronLine | Should -BeLike "* >> $log 2>&1"
        }

        It 'Passes -ThrottleLimit and -MaxAttempts on to each run, and starts the PowerShell given by -PwshPath' {
            $pwshDll = Join-Path $PSHOME 'pwsh.dll'
            $line = (Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -ThrottleLimit 2 -MaxAttempts 7 -PwshPath $pwshDll).CronLine
            $words = Split-CronCommand ($line -replace '^(\S+ ){5}', '' -replace ' >> .+$', '')
            $words[1] | Should -Be $pwshDll
            $words[-4..-1] | Should -Be @('-ThrottleLimit', '2', '-MaxAttempts', '7')
        }

        It 'Refuses a -PwshPath that does not exist with PwshNotFound' {
            { Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -PwshPath (Join-Path (New-TempDirectory) 'pwsh') -ErrorAction Stop } |
                Should -Throw -ErrorId 'PwshNotFound,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand'
        }

        It 'Notes that cron does not see env: variables' {
            ($cron.Notes -join "`n") | Should -BeLike "*$variable*"
            ($cron | ConvertTo-Json -Depth 5) | Should -Not -BeLike "*$secret*"
        }

        It 'Schedules <Interval> as <Expected>' -TestCases @(
            @{ Interval = '00:01:00'; Expected = '* * * * *' }
            @{ Interval = '00:15:00'; Expected = '*/15 * * * *' }
            @{ Interval = '00:30:00'; Expected = '*/30 * * * *' }
            @{ Interval = '01:00:00'; Expected = '0 * * * *' }
            @{ Interval = '02:00:00'; Expected = '0 */2 * * *' }
            @{ Interval = '1.00:00:00'; Expected = '0 0 * * *' }
        ) {
            param($Interval, $Expected)
            $line = (Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -Interval ([TimeSpan]$Interval)).CronLine
            ($line -split ' ')[0..4] -join ' ' | Should -Be $Expected
        }

        It 'Refuses <Interval>, which cron cannot repeat evenly, with ScheduleIntervalUnsupported' -TestCases @(
            @{ Interval = '00:07:00' }
            @{ Interval = '00:45:00' }
            @{ Interval = '00:05:30' }
            @{ Interval = '01:30:00' }
            @{ Interval = '05:00:00' }
        ) {
            param($Interval)
            $err = { Register-ReplyProcessingSchedule -ConfigPath $config -Platform Cron -Interval ([TimeSpan]$Interval) -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleIntervalUnsupported,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        }
    }

    Context 'When the input is invalid' {
        It 'Refuses <Scenario> as name with ScheduleNameInvalid and writes nothing' -TestCases @(
            @{ Scenario = 'a name with a space'; Name = 'my task' }
            @{ Scenario = 'a unit suffix'; Name = 'ReplyAdmin.timer' }
            @{ Scenario = 'a path'; Name = '../evil' }
            @{ Scenario = 'a line break'; Name = "x`ny" }
        ) {
            param($Scenario, $Name)
            $dir = Join-Path (New-TempDirectory) 'units'
            $err = { Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $dir -Name $Name -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleNameInvalid,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.TargetObject | Should -Be $Name
            Test-Path $dir | Should -BeFalse
        }

        It 'Refuses an interval of <Interval> for systemd too' -TestCases @(
            @{ Interval = '00:00:30' }
            @{ Interval = '2.00:00:00' }
            @{ Interval = '00:05:00.5000000' }
        ) {
            param($Interval)
            { Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath (New-TempDirectory) -Interval ([TimeSpan]$Interval) -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleIntervalUnsupported,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand'
        }

        It 'Reports a Windows schedule without the ScheduledTasks module as ScheduledTasksUnavailable' -Skip:([bool](Get-Command Register-ScheduledTask -ErrorAction Ignore)) {
            { Register-ReplyProcessingSchedule -ConfigPath $config -Platform Windows -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduledTasksUnavailable,ReplyAdmin.Commands.RegisterReplyProcessingScheduleCommand'
        }
    }
}

Describe 'Unregister-ReplyProcessingSchedule' -Tag Unit {
    It 'Declares its output type' {
        (Get-Command Unregister-ReplyProcessingSchedule).OutputType.Name | Should -Be 'ReplyAdmin.Engine.Scheduling.ProcessingSchedule'
    }

    Context 'When removing units written into -OutputPath' -Skip:$IsWindows {
        It 'Deletes the timer and the service, and returns what it removed' {
            $units = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -InformationAction Ignore
            $removed = Unregister-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -PassThru -InformationAction Ignore
            @(Get-ChildItem $units) | Should -BeNullOrEmpty
            $removed.Applied | Should -BeTrue
            $removed.Watch | Should -BeFalse
            @($removed.Files.Path | ForEach-Object { Split-Path $_ -Leaf }) | Sort-Object | Should -Be @('ReplyAdmin.service', 'ReplyAdmin.timer')
            $removed.Files[0].Content | Should -Match 'Description=ReplyAdmin: '
        }

        It 'Takes the name from what Register-ReplyProcessingSchedule -PassThru returns, and leaves other schedules' {
            $units = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'Keep' -InformationAction Ignore
            Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'Shop' -PassThru -InformationAction Ignore |
                Unregister-ReplyProcessingSchedule -OutputPath $units -InformationAction Ignore
            (Get-ChildItem $units).Name | Sort-Object | Should -Be @('Keep.service', 'Keep.timer')
        }

        It 'Deletes the service of a resident (-Watch) schedule' {
            $units = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -Watch -OutputPath $units -InformationAction Ignore
            $removed = Unregister-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -PassThru -InformationAction Ignore
            @(Get-ChildItem $units) | Should -BeNullOrEmpty
            $removed.Watch | Should -BeTrue
        }

        It 'Changes nothing with -WhatIf, and returns what it would remove' {
            $units = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -InformationAction Ignore
            $plan = Unregister-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -PassThru -WhatIf -InformationAction Ignore
            (Get-ChildItem $units).Name | Sort-Object | Should -Be @('ReplyAdmin.service', 'ReplyAdmin.timer')
            $plan.Applied | Should -BeFalse
            $plan.Files | Should -HaveCount 2
        }

        It 'Completes the names of the schedules in the unit directory, and no other unit' {
            $units = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'Shop' -InformationAction Ignore
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'Support' -Watch -InformationAction Ignore
            Set-Content -LiteralPath (Join-Path $units 'Sync.service') -Value "[Unit]`nDescription=Another program`n"
            $line = "Unregister-ReplyProcessingSchedule -OutputPath '$units' -Name S"
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('Shop', 'Support')
        }
    }

    Context 'When the name finds nothing of ReplyAdmin''s' -Skip:$IsWindows {
        It 'Reports a name without units with ScheduleNotFound' {
            $units = New-TempDirectory
            $err = { Unregister-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -Name 'Nothing' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleNotFound,ReplyAdmin.Commands.UnregisterReplyProcessingScheduleCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be 'Nothing'
        }

        It 'Refuses a unit another program wrote with ScheduleNotReplyAdmin, and removes neither of the pair' {
            $units = Join-Path (New-TempDirectory) 'units'
            $null = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'nginx' -InformationAction Ignore
            Set-Content -LiteralPath (Join-Path $units 'nginx.service') -Value "[Unit]`nDescription=A web server`n[Service]`nExecStart=/usr/sbin/nginx`n"
            $err = { Unregister-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -Name 'nginx' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleNotReplyAdmin,ReplyAdmin.Commands.UnregisterReplyProcessingScheduleCommand' -PassThru
            $err.TargetObject | Should -Be (Join-Path $units 'nginx.service')
            (Get-ChildItem $units).Name | Sort-Object | Should -Be @('nginx.service', 'nginx.timer')
        }

        It 'Refuses -Platform Cron, which installs nothing, with ScheduleCronNotInstalled' {
            $err = { Unregister-ReplyProcessingSchedule -Platform Cron -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleCronNotInstalled,ReplyAdmin.Commands.UnregisterReplyProcessingScheduleCommand' -PassThru
            $err.Exception.Message | Should -Match 'crontab'
        }

        It 'Refuses a name Register-ReplyProcessingSchedule would refuse with ScheduleNameInvalid' {
            $units = New-TempDirectory
            { Unregister-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -Name '../evil' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleNameInvalid,ReplyAdmin.Commands.UnregisterReplyProcessingScheduleCommand'
        }
    }
}

Describe 'Get-ReplyProcessingSchedule' -Tag Unit {
    It 'Declares its output type' {
        (Get-Command Get-ReplyProcessingSchedule).OutputType.Name | Should -Be 'ReplyAdmin.Engine.Scheduling.ProcessingSchedule'
    }

    Context 'When reading the units back from -OutputPath' -Skip:$IsWindows {
        BeforeAll {
            $units = Join-Path (New-TempDirectory) 'units'
            $timed = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'Shop' -Interval '01:30:00' -ThrottleLimit 2 -PassThru -InformationAction Ignore
            $resident = Register-ReplyProcessingSchedule -ConfigPath $config -Platform Systemd -OutputPath $units -Name 'Support' -Watch -Interval '00:10:00' -PassThru -InformationAction Ignore
            Set-Content -LiteralPath (Join-Path $units 'Sync.service') -Value "[Unit]`nDescription=Another program`n[Service]`nExecStart=/usr/bin/sync`n"
            $listed = @(Get-ReplyProcessingSchedule -Platform Systemd -OutputPath $units)
        }

        It 'Lists the schedules Register-ReplyProcessingSchedule wrote, and no other unit' {
            $listed.Name | Should -Be @('Shop', 'Support')
        }

        It 'Gives back the command each run executes, word for word, quoting and all' {
            # The configuration's directory name has a space, a quote, a percent and a dollar.
            ($listed | Where-Object Name -eq 'Shop').Command | Should -Be $timed.Command
            ($listed | Where-Object Name -eq 'Support').Command | Should -Be $resident.Command
            ($listed | Where-Object Name -eq 'Shop').ConfigPath | Should -Be $config
        }

        It 'Reads the interval from the timer, and for a resident process its longest wait' {
            ($listed | Where-Object Name -eq 'Shop').Interval | Should -Be ([TimeSpan] '01:30:00')
            ($listed | Where-Object Name -eq 'Shop').Watch | Should -BeFalse
            ($listed | Where-Object Name -eq 'Support').Interval | Should -Be ([TimeSpan] '00:10:00')
            ($listed | Where-Object Name -eq 'Support').Watch | Should -BeTrue
        }

        It 'Names the program each run starts, as registering chose it' {
            foreach ($schedule in $listed) {
                $schedule.RunWith | Should -Be $timed.RunWith
                $schedule.ScriptPath | Should -Be $timed.ScriptPath
            }
        }

        It 'Returns the EnvironmentFile for the env: reference and the unit files with their content' {
            ($listed | Where-Object Name -eq 'Shop').EnvironmentFile | Should -Be $timed.EnvironmentFile
            ($listed | Where-Object Name -eq 'Shop').Files.Content | Should -Be $timed.Files.Content
        }

        It 'Says the units in -OutputPath are not enabled' {
            $listed.Enabled | Should -Not -Contain $true
        }

        It 'Filters by name with wildcards' {
            (Get-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -Name 'Su*').Name | Should -Be 'Support'
        }

        It 'Reports a name that matches nothing with ScheduleNotFound and still lists the others' {
            $found = @(Get-ReplyProcessingSchedule -Platform Systemd -OutputPath $units -Name 'Nothing', 'Shop' -ErrorVariable failed -ErrorAction SilentlyContinue)
            $found.Name | Should -Be 'Shop'
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -Be 'ScheduleNotFound,ReplyAdmin.Commands.GetReplyProcessingScheduleCommand'
            $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failed[0].TargetObject | Should -Be 'Nothing'
        }

        It 'Hands its schedules to Unregister-ReplyProcessingSchedule through the pipeline' {
            $copy = Join-Path (New-TempDirectory) 'units'
            $null = New-Item -ItemType Directory -Path $copy
            Copy-Item -Path (Join-Path $units '*') -Destination $copy
            Get-ReplyProcessingSchedule -Platform Systemd -OutputPath $copy | Unregister-ReplyProcessingSchedule -OutputPath $copy -InformationAction Ignore
            (Get-ChildItem $copy).Name | Should -Be @('Sync.service')
        }
    }

    Context 'When asked for cron' {
        It 'Refuses -Platform Cron, which installs nothing, with ScheduleCronNotInstalled' {
            { Get-ReplyProcessingSchedule -Platform Cron -ErrorAction Stop } |
                Should -Throw -ErrorId 'ScheduleCronNotInstalled,ReplyAdmin.Commands.GetReplyProcessingScheduleCommand'
        }
    }
}
