#Requires -Version 7.0
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force

    # A configuration with two lists, the reply mailbox and an SMTP relay, whose passwords are real values
    # behind env: and file: references: the tests assert that neither value ever shows up.
    function New-MailClientConfig {
        param([switch] $NoRelay)
        $config = New-TestConfigPath
        $secrets = [pscustomobject]@{
            Imap = 'imap-Pa55-' + [guid]::NewGuid().ToString('N')
            Smtp = 'smtp-Pa55-' + [guid]::NewGuid().ToString('N')
        }
        $variable = 'REPLYADMIN_TEST_MAILCLIENT_' + [guid]::NewGuid().ToString('N').Substring(0, 8).ToUpperInvariant()
        Set-Item "Env:$variable" $secrets.Imap
        $passwordFile = Join-Path (Split-Path $config) 'smtp.password'
        Set-Content -Path $passwordFile -Value $secrets.Smtp -NoNewline
        if (-not $IsWindows) { & chmod 600 $passwordFile }

        Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@lists.example.test' -Description 'Newsletter & <Team>'
        Add-ReplyList -ConfigPath $config -Name 'sales' -Address 'sales@example.test'
        Set-ReplyMailbox -ConfigPath $config -Server 'imap.example.net' -UserName 'replies@example.net' -Folder 'Replies' `
            -CredentialReference "env:$variable"
        if (-not $NoRelay) {
            Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.net' -Port 587 -TlsMode StartTls -UserName 'relay@example.net' `
                -CredentialReference "file:$passwordFile"
        }
        [pscustomobject]@{ Path = $config; Directory = (Split-Path $config); Secrets = $secrets; Variable = $variable }
    }

    # An Apple plist <dict> as an ordered hashtable (string, integer, true/false, array, dict).
    function ConvertFrom-PlistDict([System.Xml.XmlElement] $Dict) {
        $result = [ordered]@{}
        $children = @($Dict.ChildNodes | Where-Object NodeType -eq 'Element')
        for ($i = 0; $i -lt $children.Count; $i += 2) {
            $children[$i].LocalName | Should -Be 'key'
            $result[$children[$i].InnerText] = ConvertFrom-PlistValue $children[$i + 1]
        }
        $result
    }

    function ConvertFrom-PlistValue([System.Xml.XmlElement] $Node) {
        switch ($Node.LocalName) {
            'string' { $Node.InnerText }
            'integer' { [int] $Node.InnerText }
            'true' { $true }
            'false' { $false }
            'dict' { ConvertFrom-PlistDict $Node }
            'array' { , @($Node.ChildNodes | Where-Object NodeType -eq 'Element' | ForEach-Object { ConvertFrom-PlistValue $_ }) }
            default { throw "Unexpected plist element <$($Node.LocalName)>." }
        }
    }
}

Describe 'Get-ReplyMailClientSetting' -Tag Unit {
    BeforeAll {
        $fixture = New-MailClientConfig
        $config = $fixture.Path
    }
    AfterAll { Remove-Item "Env:$($fixture.Variable)" -ErrorAction SilentlyContinue }

    Context 'When the reply mailbox and the SMTP relay are configured' {
        It 'Returns one settings object per list, in name order' {
            $settings = Get-ReplyMailClientSetting -ConfigPath $config
            $settings | Should -HaveCount 2
            $settings[0].PSObject.TypeNames[0] | Should -Be 'ReplyAdmin.Engine.ClientSetup.MailClientSetting'
            $settings.ListName | Should -Be @('news', 'sales')
            $settings.EmailAddress | Should -Be @('news@lists.example.test', 'sales@example.test')
        }

        It 'Sets <Property> to <Expected>' -TestCases @(
            @{ Property = 'AccountType'; Expected = 'IMAP' }
            @{ Property = 'EmailAddress'; Expected = 'news@lists.example.test' }
            @{ Property = 'DisplayName'; Expected = 'Newsletter & <Team>' }
            @{ Property = 'IncomingServer'; Expected = 'imap.example.net' }
            @{ Property = 'IncomingPort'; Expected = 993 }
            @{ Property = 'IncomingSecurity'; Expected = 'SSL/TLS' }
            @{ Property = 'IncomingUserName'; Expected = 'replies@example.net' }
            @{ Property = 'Folder'; Expected = 'Replies' }
            @{ Property = 'OutgoingServer'; Expected = 'smtp.example.net' }
            @{ Property = 'OutgoingPort'; Expected = 587 }
            @{ Property = 'OutgoingSecurity'; Expected = 'STARTTLS' }
            @{ Property = 'OutgoingUserName'; Expected = 'relay@example.net' }
            @{ Property = 'PasswordNote'; Expected = 'Ask your administrator; it is not the platform login.' }
        ) {
            param($Property, $Expected)
            (Get-ReplyMailClientSetting -ConfigPath $config -Name 'news').$Property | Should -Be $Expected
        }

        It 'Uses the list name as display name when the list has no description' {
            (Get-ReplyMailClientSetting -ConfigPath $config -Name 'sales').DisplayName | Should -Be 'sales'
        }

        It 'Takes list names from the pipeline by property name' {
            $settings = Get-ReplyList -ConfigPath $config -Name 'sales' | Get-ReplyMailClientSetting -ConfigPath $config
            $settings.ListName | Should -Be 'sales'
        }

        It 'Filters by wildcard' {
            (Get-ReplyMailClientSetting -ConfigPath $config -Name 'ne*').ListName | Should -Be 'news'
        }

        It 'Reports a list that does not exist as ListNotFound' {
            { Get-ReplyMailClientSetting -ConfigPath $config -Name 'nope' -ErrorAction Stop } |
                Should -Throw -ErrorId 'ListNotFound,ReplyAdmin.Commands.GetReplyMailClientSettingCommand'
        }

        It 'Never contains a password, in any property or in the text' {
            $everything = @(
                Get-ReplyMailClientSetting -ConfigPath $config | ConvertTo-Json -Depth 5
                Get-ReplyMailClientSetting -ConfigPath $config | Format-List * | Out-String
                Get-ReplyMailClientSetting -ConfigPath $config | Out-String
                Get-ReplyMailClientSetting -ConfigPath $config -AsText
                Get-ReplyMailClientSetting -ConfigPath $config -AsText -Language de
            ) -join "`n"
            $everything | Should -Not -BeLike "*$($fixture.Secrets.Imap)*"
            $everything | Should -Not -BeLike "*$($fixture.Secrets.Smtp)*"
            (Get-ReplyMailClientSetting -ConfigPath $config -Name news).PSObject.Properties.Name | Should -Not -Contain 'Password'
        }

        It 'Writes an English text block with every setting staff need' {
            $text = Get-ReplyMailClientSetting -ConfigPath $config -Name 'news' -AsText
            $text | Should -BeOfType [string]
            $text | Should -Match "(?m)^Account type:\s+IMAP$"
            $text | Should -Match "(?m)^E-mail address:\s+news@lists\.example\.test$"
            $text | Should -Match "(?m)^Incoming server \(IMAP\):\s+imap\.example\.net$"
            $text | Should -Match "(?m)^Port:\s+993$"
            $text | Should -Match "(?m)^Connection security:\s+SSL/TLS \(required\)$"
            $text | Should -Match "(?m)^User name:\s+replies@example\.net$"
            $text | Should -Match "(?m)^Password:\s+Ask your administrator; it is not the platform login\.$"
            $text | Should -Match "(?m)^Outgoing server \(SMTP\):\s+smtp\.example\.net$"
            $text | Should -Match "(?m)^Connection security:\s+STARTTLS$"
            $text | Should -Match '10 MB'
        }

        It 'Writes the text in German with -Language de, in the words of the requirement' {
            $text = Get-ReplyMailClientSetting -ConfigPath $config -Name 'news' -AsText -Language de
            $text | Should -Match "(?m)^Konto- oder Servertyp:\s+IMAP$"
            $text | Should -Match "(?m)^Posteingangsserver \(IMAP\):\s+imap\.example\.net$"
            $text | Should -Match "(?m)^Postausgangsserver \(SMTP\):\s+smtp\.example\.net$"
            $text | Should -Match "(?m)^Verbindungssicherheit:\s+SSL/TLS \(erforderlich\)$"
            $text | Should -Match "(?m)^Passwort:\s+.*Administrator"
        }

        It 'Refuses a language it does not write' {
            { Get-ReplyMailClientSetting -ConfigPath $config -AsText -Language fr -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,ReplyAdmin.Commands.GetReplyMailClientSettingCommand'
        }

        It 'Completes list names' {
            $line = "Get-ReplyMailClientSetting -ConfigPath '$config' -Name sa"
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('sales')
        }

        It 'Declares its output types' {
            (Get-Command Get-ReplyMailClientSetting).OutputType.Name | Should -Be @('ReplyAdmin.Engine.ClientSetup.MailClientSetting', 'System.String')
        }
    }

    Context 'When no SMTP relay is configured' {
        BeforeAll {
            $noRelay = New-MailClientConfig -NoRelay
        }
        AfterAll { Remove-Item "Env:$($noRelay.Variable)" -ErrorAction SilentlyContinue }

        It 'Leaves the outgoing server empty and warns once' {
            $settings = Get-ReplyMailClientSetting -ConfigPath $noRelay.Path -WarningVariable warnings -WarningAction SilentlyContinue
            $settings | Should -HaveCount 2
            $settings[0].OutgoingServer | Should -BeNullOrEmpty
            $settings[0].OutgoingPort | Should -BeNullOrEmpty
            @($warnings) | Should -HaveCount 1
            "$($warnings[0])" | Should -BeLike '*No SMTP relay*'
        }

        It 'Says so in the text' {
            Get-ReplyMailClientSetting -ConfigPath $noRelay.Path -Name news -AsText -WarningAction SilentlyContinue |
                Should -Match '(?m)^Outgoing server \(SMTP\):\s+\(not configured\)$'
        }
    }

    Context 'When a server is the loopback interface' {
        It 'Warns that staff cannot reach it' {
            $loopback = New-TestConfigPath
            Add-ReplyList -ConfigPath $loopback -Name 'news' -Address 'news@example.test'
            Set-ReplyMailbox -ConfigPath $loopback -Server '127.0.0.1' -UserName 'replies' -Folder 'Replies'
            Set-ReplySmtpRelay -ConfigPath $loopback -Server 'localhost' -Port 25 -TlsMode None
            $null = Get-ReplyMailClientSetting -ConfigPath $loopback -WarningVariable warnings -WarningAction SilentlyContinue
            ($warnings | ForEach-Object { "$_" }) -join "`n" | Should -BeLike '*127.0.0.1*loopback*'
            ($warnings | ForEach-Object { "$_" }) -join "`n" | Should -BeLike '*localhost*loopback*'
        }
    }

    Context 'When no reply mailbox is configured' {
        It 'Reports ReplyMailboxNotConfigured with category, target and recommended action' {
            $empty = New-TestConfigPath
            Add-ReplyList -ConfigPath $empty -Name 'news' -Address 'news@example.test'
            $err = $null
            $result = Get-ReplyMailClientSetting -ConfigPath $empty -ErrorVariable err -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ReplyMailboxNotConfigured,ReplyAdmin.Commands.GetReplyMailClientSettingCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be $empty
            $err[0].ErrorDetails.RecommendedAction | Should -BeLike '*Set-ReplyMailbox*'
        }
    }
}

Describe 'Export-ReplyMailClientProfile' -Tag Unit {
    BeforeAll {
        $fixture = New-MailClientConfig
        $config = $fixture.Path
    }
    AfterAll { Remove-Item "Env:$($fixture.Variable)" -ErrorAction SilentlyContinue }

    BeforeEach {
        $out = Join-Path ([IO.Path]::GetTempPath()) ('replyadmin-profile-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $out | Out-Null
    }

    Context 'When the format is Thunderbird' {
        It 'Writes well-formed autoconfig XML (clientConfig 1.1) with the expected servers' {
            $file = Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format Thunderbird -Path $out -PassThru
            $file | Should -BeOfType [System.IO.FileInfo]
            $file.Name | Should -Be 'news.thunderbird.xml'
            $xml = [xml](Get-Content $file.FullName -Raw)
            $xml.clientConfig.version | Should -Be '1.1'
            $provider = $xml.clientConfig.emailProvider
            $provider.id | Should -Be 'lists.example.test'
            $provider.domain | Should -Be 'lists.example.test'
            $provider.displayName | Should -Be 'Newsletter & <Team>'

            $incoming = $provider.incomingServer
            $incoming.type | Should -Be 'imap'
            $incoming.hostname | Should -Be 'imap.example.net'
            $incoming.port | Should -Be '993'
            $incoming.socketType | Should -Be 'SSL'
            $incoming.username | Should -Be 'replies@example.net'
            $incoming.authentication | Should -Be 'password-cleartext'

            $outgoing = $provider.outgoingServer
            $outgoing.type | Should -Be 'smtp'
            $outgoing.hostname | Should -Be 'smtp.example.net'
            $outgoing.port | Should -Be '587'
            $outgoing.socketType | Should -Be 'STARTTLS'
            $outgoing.username | Should -Be 'relay@example.net'
            $outgoing.authentication | Should -Be 'password-cleartext'
        }

        It 'Writes SSL as socket type for an implicit-TLS relay' {
            $implicit = New-MailClientConfig
            try {
                Set-ReplySmtpRelay -ConfigPath $implicit.Path -Port 465 -TlsMode Implicit
                $file = Export-ReplyMailClientProfile -ConfigPath $implicit.Path -Name 'sales' -Format Thunderbird -Path $out -PassThru
                $outgoing = ([xml](Get-Content $file.FullName -Raw)).clientConfig.emailProvider.outgoingServer
                $outgoing.socketType | Should -Be 'SSL'
                $outgoing.port | Should -Be '465'
            }
            finally { Remove-Item "Env:$($implicit.Variable)" -ErrorAction SilentlyContinue }
        }
    }

    Context 'When the format is AppleMobileConfig' {
        BeforeAll {
            $appleOut = Join-Path ([IO.Path]::GetTempPath()) ('replyadmin-profile-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
            New-Item -ItemType Directory -Path $appleOut | Out-Null
            $file = Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format AppleMobileConfig -Path $appleOut -PassThru
            $text = Get-Content $file.FullName -Raw
            $xml = [xml]$text
            $outer = ConvertFrom-PlistDict $xml.DocumentElement.dict
            $account = $outer.PayloadContent[0]
        }

        It 'Writes a well-formed plist named after the list' {
            $file.Name | Should -Be 'news.mobileconfig'
            $text | Should -BeLike '*<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"*'
            $xml.DocumentElement.LocalName | Should -Be 'plist'
            $xml.DocumentElement.version | Should -Be '1.0'
        }

        It 'Wraps one mail payload in a Configuration payload' {
            $outer.PayloadType | Should -Be 'Configuration'
            $outer.PayloadVersion | Should -Be 1
            $outer.PayloadIdentifier | Should -Be 'test.example.lists.replyadmin.news'
            $outer.PayloadUUID | Should -Match '^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$'
            $outer.PayloadDisplayName | Should -Not -BeNullOrEmpty
            @($outer.PayloadContent) | Should -HaveCount 1
        }

        It 'Sets <Key> of the mail payload to <Expected>' -TestCases @(
            @{ Key = 'PayloadType'; Expected = 'com.apple.mail.managed' }
            @{ Key = 'PayloadVersion'; Expected = 1 }
            @{ Key = 'PayloadIdentifier'; Expected = 'test.example.lists.replyadmin.news.mail' }
            @{ Key = 'EmailAccountType'; Expected = 'EmailTypeIMAP' }
            @{ Key = 'EmailAddress'; Expected = 'news@lists.example.test' }
            @{ Key = 'EmailAccountName'; Expected = 'Newsletter & <Team>' }
            @{ Key = 'IncomingMailServerHostName'; Expected = 'imap.example.net' }
            @{ Key = 'IncomingMailServerPortNumber'; Expected = 993 }
            @{ Key = 'IncomingMailServerUseSSL'; Expected = $true }
            @{ Key = 'IncomingMailServerUsername'; Expected = 'replies@example.net' }
            @{ Key = 'IncomingMailServerAuthentication'; Expected = 'EmailAuthPassword' }
            @{ Key = 'OutgoingMailServerHostName'; Expected = 'smtp.example.net' }
            @{ Key = 'OutgoingMailServerPortNumber'; Expected = 587 }
            @{ Key = 'OutgoingMailServerUseSSL'; Expected = $true }
            @{ Key = 'OutgoingMailServerUsername'; Expected = 'relay@example.net' }
            @{ Key = 'OutgoingMailServerAuthentication'; Expected = 'EmailAuthPassword' }
        ) {
            param($Key, $Expected)
            $account[$Key] | Should -Be $Expected
        }

        It 'Gives the mail payload its own UUID' {
            $account.PayloadUUID | Should -Match '^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$'
            $account.PayloadUUID | Should -Not -Be $outer.PayloadUUID
        }

        It 'Has no password key' {
            $account.Keys | Should -Not -Contain 'IncomingPassword'
            $account.Keys | Should -Not -Contain 'OutgoingPassword'
            $outer.Keys | Should -Not -Contain 'Password'
        }

        It 'Keeps identifiers and UUIDs when exported again, so the new profile replaces the installed one' {
            $again = Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format AppleMobileConfig -Path $appleOut -Force -PassThru
            Get-Content $again.FullName -Raw | Should -Be $text
        }
    }

    Context 'When checking for secrets' {
        It 'Writes no password into a <Format> profile' -TestCases @(
            @{ Format = 'Thunderbird' }
            @{ Format = 'AppleMobileConfig' }
        ) {
            param($Format)
            # The references resolve: the passwords are there to leak, and must not.
            [Environment]::GetEnvironmentVariable($fixture.Variable) | Should -Be $fixture.Secrets.Imap
            $file = Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format $Format -Path $out -PassThru
            $content = Get-Content $file.FullName -Raw
            $content | Should -Not -BeLike "*$($fixture.Secrets.Imap)*"
            $content | Should -Not -BeLike "*$($fixture.Secrets.Smtp)*"
            $content | Should -Not -BeLike "*$($fixture.Variable)*"
            $content | Should -Not -BeLike '*smtp.password*'
        }
    }

    Context 'When choosing where to write' {
        It 'Writes to the given file name' {
            $target = Join-Path $out 'config-v1.1.xml'
            Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format Thunderbird -Path $target | Should -BeNullOrEmpty
            Test-Path $target | Should -BeTrue
        }

        It 'Writes to the current directory without -Path' {
            Push-Location $out
            try { Export-ReplyMailClientProfile -ConfigPath $config -Name 'sales' -Format AppleMobileConfig }
            finally { Pop-Location }
            Test-Path (Join-Path $out 'sales.mobileconfig') | Should -BeTrue
        }

        It 'Writes one profile per list from the pipeline' {
            $files = Get-ReplyList -ConfigPath $config | Export-ReplyMailClientProfile -ConfigPath $config -Format Thunderbird -Path $out -PassThru
            $files.Name | Should -Be @('news.thunderbird.xml', 'sales.thunderbird.xml')
            ([xml](Get-Content (Join-Path $out 'sales.thunderbird.xml') -Raw)).clientConfig.emailProvider.domain | Should -Be 'example.test'
        }

        It 'Writes nothing with -WhatIf' {
            Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format Thunderbird -Path $out -WhatIf
            Get-ChildItem $out | Should -BeNullOrEmpty
        }

        It 'Refuses to replace an existing file without -Force, and replaces it with -Force' {
            $target = Join-Path $out 'news.thunderbird.xml'
            Set-Content -Path $target -Value 'keep me'
            $err = $null
            Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format Thunderbird -Path $out -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ProfileExists,ReplyAdmin.Commands.ExportReplyMailClientProfileCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $err[0].TargetObject | Should -Be $target
            $err[0].ErrorDetails.RecommendedAction | Should -BeLike '*-Force*'
            (Get-Content $target -Raw).Trim() | Should -Be 'keep me'

            Export-ReplyMailClientProfile -ConfigPath $config -Name 'news' -Format Thunderbird -Path $out -Force
            ([xml](Get-Content $target -Raw)).clientConfig.version | Should -Be '1.1'
        }
    }

    Context 'When the profile cannot be made' {
        It 'Reports a list that does not exist as ListNotFound' {
            { Export-ReplyMailClientProfile -ConfigPath $config -Name 'nope' -Format Thunderbird -Path $out -ErrorAction Stop } |
                Should -Throw -ErrorId 'ListNotFound,ReplyAdmin.Commands.ExportReplyMailClientProfileCommand'
        }

        It 'Reports a missing SMTP relay as OutgoingServerNotConfigured and writes nothing' {
            $noRelay = New-MailClientConfig -NoRelay
            try {
                $err = $null
                Export-ReplyMailClientProfile -ConfigPath $noRelay.Path -Name 'news' -Format AppleMobileConfig -Path $out `
                    -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
                $err[0].FullyQualifiedErrorId | Should -Be 'OutgoingServerNotConfigured,ReplyAdmin.Commands.ExportReplyMailClientProfileCommand'
                $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
                Get-ChildItem $out | Should -BeNullOrEmpty
            }
            finally { Remove-Item "Env:$($noRelay.Variable)" -ErrorAction SilentlyContinue }
        }

        It 'Reports a missing reply mailbox as ReplyMailboxNotConfigured' {
            $empty = New-TestConfigPath
            Add-ReplyList -ConfigPath $empty -Name 'news' -Address 'news@example.test'
            { Export-ReplyMailClientProfile -ConfigPath $empty -Name 'news' -Format Thunderbird -Path $out -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReplyMailboxNotConfigured,ReplyAdmin.Commands.ExportReplyMailClientProfileCommand'
        }
    }
}
