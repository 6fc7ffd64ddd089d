#Requires -Version 7.0
# Several hosts sharing one inbound mailbox (issue 12): host identity and shards in the configuration, and the Sieve
# script that fills the shards, checked with Pigeonhole's sieve-test against the rule the engine uses.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force
    function New-ImapSourceConfig {
        $config = New-TestConfigPath
        Set-ReplySource -ConfigPath $config -Kind Imap -Server 'imap.example.test' -UserName 'in@example.test' -Folder 'In' -CredentialReference 'env:REPLYADMIN_TEST_X'
        $config
    }
}

Describe 'Set-ReplyCoordination' -Tag Unit {
    BeforeEach {
        $config = New-ImapSourceConfig
    }

    Context 'When the settings are valid' {
        It 'Writes the host id, time to live and shards into the coordination section' {
            Set-ReplyCoordination -ConfigPath $config -HostId 'worker-2' -LeaseTimeToLiveSeconds 30 -Shards 4
            $json = Get-Content -Raw $config | ConvertFrom-Json
            $json.coordination.hostId | Should -Be 'worker-2'
            $json.coordination.leaseTimeToLiveSeconds | Should -Be 30
            $json.coordination.shards | Should -Be 4
        }

        It 'Keeps what is not given, and goes back to the host name for an empty host id' {
            Set-ReplyCoordination -ConfigPath $config -HostId 'worker-2' -Shards 4
            Set-ReplyCoordination -ConfigPath $config -LeaseTimeToLive 20
            (Get-ReplyCoordination -ConfigPath $config).Shards | Should -Be 4
            Set-ReplyCoordination -ConfigPath $config -HostId ''
            $info = Get-ReplyCoordination -ConfigPath $config
            $info.HostId | Should -Be ([Environment]::MachineName)
            $info.HostIdIsDefault | Should -BeTrue
            $info.LeaseTimeToLive | Should -Be ([TimeSpan]::FromSeconds(20))
        }

        It 'Returns the settings with -PassThru and changes nothing with -WhatIf' {
            (Set-ReplyCoordination -ConfigPath $config -Shards 2 -PassThru).Shards | Should -Be 2
            Set-ReplyCoordination -ConfigPath $config -Shards 6 -WhatIf
            (Get-ReplyCoordination -ConfigPath $config).Shards | Should -Be 2
        }
    }

    Context 'When a setting is invalid' {
        It 'Refuses <Case> with LeaseConfigurationInvalid and writes nothing' -ForEach @(
            @{ Case = 'a host id with a space'; Settings = @{ HostId = 'host one' }; Target = 'host one' }
            @{ Case = 'a time to live of 2 s'; Settings = @{ LeaseTimeToLiveSeconds = 2 }; Target = 2 }
            @{ Case = '65 shards'; Settings = @{ Shards = 65 }; Target = 65 }
            @{ Case = 'negative shards'; Settings = @{ Shards = -1 }; Target = -1 }
        ) {
            $before = Get-Content -Raw $config
            { Set-ReplyCoordination -ConfigPath $config @Settings -ErrorAction Stop } | Should -Throw -ErrorId 'LeaseConfigurationInvalid*'
            try { Set-ReplyCoordination -ConfigPath $config @Settings -ErrorAction Stop } catch { $err = $_ }
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.TargetObject | Should -Be $Target
            Get-Content -Raw $config | Should -Be $before
        }

        It 'Refuses shards for a directory source' {
            $dir = New-TestConfigPath
            Set-ReplySource -ConfigPath $dir -Kind Directory -Path (Join-Path (Split-Path $dir) 'in')
            { Set-ReplyCoordination -ConfigPath $dir -Shards 2 -ErrorAction Stop } | Should -Throw -ErrorId 'LeaseConfigurationInvalid*'
        }
    }
}

Describe 'Get-ReplyCoordination' -Tag Unit {
    It 'Fills in the defaults when nothing is configured' {
        $info = Get-ReplyCoordination -ConfigPath (New-ImapSourceConfig)
        $info.HostId | Should -Be ([Environment]::MachineName)
        $info.LeaseTimeToLive | Should -Be ([TimeSpan]::FromSeconds(60))
        $info.Shards | Should -Be 0
        $info.Units | Should -Be @('In')
    }

    It 'Lists the source folder and every shard, in an order that depends on the host id' {
        $config = New-ImapSourceConfig
        Set-ReplyCoordination -ConfigPath $config -Shards 4
        $orders = @(foreach ($id in 'host-1', 'host-2', 'host-3', 'host-4', 'host-5') {
                Set-ReplyCoordination -ConfigPath $config -HostId $id
                $units = (Get-ReplyCoordination -ConfigPath $config).Units
                @($units | Sort-Object) | Should -Be @('In', 'In/Shard-0', 'In/Shard-1', 'In/Shard-2', 'In/Shard-3')
                $units[0] })
        @($orders | Sort-Object -Unique).Count | Should -BeGreaterThan 1
    }

    It 'Shows the settings in a list that names the default host id' {
        $text = Get-ReplyCoordination -ConfigPath (New-ImapSourceConfig) | Out-String
        $text | Should -Match 'HostId\s+: .+\(the host name\)'
        $text | Should -Match 'Units\s+: In'
    }
}

Describe 'Get-ReplyShardSieveScript' -Tag Unit {
    BeforeAll {
        $rule = Get-ReplyAdminType 'ReplyAdmin.Engine.Leases.ShardRule'
        $work = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-sieve-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $work
        # sieve-test drops privileges to mail_uid; as root, to nobody (who must read the files).
        & chmod 755 $work
        $user = if ((& id -u) -eq '0') { 'nobody' } else { (& id -un) }
        # What Pigeonhole's sieve-test says the script does with a message of this Message-ID ('' for none).
        function Get-SieveFolder([string] $Script, [string] $MessageId) {
            $scriptPath = Join-Path $work 'shards.sieve'
            Set-Content -LiteralPath $scriptPath -Value $Script -Encoding ascii
            $mail = Join-Path $work 'm.eml'
            $id = if ($MessageId) { "Message-ID: <$MessageId>`r`n" } else { '' }
            Set-Content -LiteralPath $mail -Value "From: a@example.test`r`nTo: news@example.test`r`n$($id)Subject: x`r`n`r`nhi`r`n" -NoNewline -Encoding ascii
            $out = & sieve-test -o "mail_uid=$user" -o 'mail_gid=nogroup' -o "mail_location=maildir:$work/mail" -o "mail_home=$work" $scriptPath $mail 2>&1 | Out-String
            if ($out -notmatch 'final result: success') { throw "sieve-test failed: $out" }
            if ($out -match 'store message in folder: (\S+)') { $Matches[1] } elseif ($out -match '\* keep') { 'INBOX' } else { throw "No folder in: $out" }
        }
    }

    AfterAll {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'Files every reply into the shard the engine reads it from (<Shards> shards, separator <Separator>)' -ForEach @(
        @{ Shards = 4; Separator = '.' }
        @{ Shards = 3; Separator = '/' }
    ) {
        $script = Get-ReplyShardSieveScript -Folder 'In-test' -Shards $Shards -HierarchySeparator $Separator
        $ids = 'a1b2c3@mail.example.test', 'X7@h', 'reply-10.tok0@customer.test', 'abcZ@x@y.test', '5@example.test', 'q-r@example.test'
        foreach ($id in $ids) {
            $shard = $rule::ShardOf($id, $Shards)
            $expected = if ($null -eq $shard) { 'In-test' } else { $rule::ShardFolder('In-test', $shard) }
            Get-SieveFolder $script $id | Should -Be $expected.Replace('/', $Separator) -Because "Message-ID <$id>"
        }
        Get-SieveFolder $script '' | Should -Be 'In-test'
        Get-SieveFolder $script 'odd!@example.test' | Should -Be 'In-test'
    }

    It 'Keeps what it cannot place in INBOX when INBOX is the source' {
        Get-SieveFolder (Get-ReplyShardSieveScript -Folder 'INBOX' -Shards 2) 'x_@example.test' | Should -Be 'INBOX'
    }

    It 'Spreads the characters over every shard' {
        foreach ($n in 1, 4, 7) {
            @(0..35 | ForEach-Object { $rule::ShardOf("m$($rule::Alphabet[$_])@h", $n) } | Sort-Object -Unique) | Should -Be @(0..($n - 1))
        }
    }

    It 'Takes folder and shard count from the configuration' {
        $config = New-ImapSourceConfig
        Set-ReplyCoordination -ConfigPath $config -Shards 2
        $script = Get-ReplyShardSieveScript -ConfigPath $config
        $script | Should -Match 'fileinto :create "In\.Shard-1"'
        $script | Should -Match 'require \["fileinto", "mailbox"\]'
    }

    It 'Says ShardsNotConfigured when neither the configuration nor the parameters give shards' {
        { Get-ReplyShardSieveScript -ConfigPath (New-ImapSourceConfig) -ErrorAction Stop } | Should -Throw -ErrorId 'ShardsNotConfigured*'
    }
}
