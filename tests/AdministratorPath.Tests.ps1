#Requires -Version 7.0
Set-StrictMode -Version Latest

# The README's ten-minute quick start, step by step, against the real servers. Keep the two in step.
BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'team@example.test'
    $work = Split-Path (New-TestConfigPath)
    $env:REPLYADMIN_CONFIG = Join-Path $work 'config.json'
    $env:REPLYADMIN_IMAP_PASSWORD = $server.Users['replies@example.test']
    $env:REPLYADMIN_INBOUND_PASSWORD = $server.Users['inbound@example.test']
}

AfterAll {
    Remove-Item Env:REPLYADMIN_CONFIG, Env:REPLYADMIN_IMAP_PASSWORD, Env:REPLYADMIN_INBOUND_PASSWORD -ErrorAction Ignore
    if ($server) { Stop-TestMailServer -Server $server }
}

Describe 'A new administrator''s first ten minutes' -Tag Integration {
    It '1. Imports the built module and finds the concepts in help' {
        Import-Module $ModulePath -Force
        (Get-Help about_ReplyAdmin | Out-String) | Should -Match 'Forward to address and store in IMAP'
        (Get-Help Set-ReplyMailbox -Examples | Out-String) | Should -Match 'Set-ReplyMailbox'
    }

    It '2. Configures the shared reply folder and tests the connection' {
        Set-ReplyMailbox -Server $server.ImapHost -Port $server.ImapPort -UserName 'replies@example.test' -Folder INBOX `
            -CredentialReference env:REPLYADMIN_IMAP_PASSWORD -CertificateThumbprint $server.CertificateThumbprint
        (Test-ReplyImapConnection).Succeeded | Should -BeTrue
    }

    It '3. Configures the inbound mailbox and the SMTP relay' {
        Set-ReplySource -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
            -CredentialReference env:REPLYADMIN_INBOUND_PASSWORD -CertificateThumbprint $server.CertificateThumbprint
        Set-ReplySmtpRelay -Server $server.SmtpHost -Port $server.SmtpPort -TlsMode StartTls -EnvelopeSender 'bounces@example.test' `
            -CertificateThumbprint $server.CertificateThumbprint
        # Sender checks ask the test's loopback DNS, never a resolver beyond it.
        Set-ReplySenderAuthentication -DnsServer "127.0.0.1:$($server.DnsPort)"
        (Test-ReplyImapConnection -Target Source).Succeeded | Should -BeTrue
        Get-Content $env:REPLYADMIN_CONFIG -Raw | Should -Not -Match ([regex]::Escape($env:REPLYADMIN_IMAP_PASSWORD))
    }

    It '4. Adds two lists and changes one by its tab-completed name' {
        Add-ReplyList -Name newsletter -Address news@example.test
        Add-ReplyList -Name sales -Address sales@example.test -Action ForwardAndStoreInImap -ForwardTo team@example.test
        $line = 'Set-ReplyListHandling -Name new'
        $completed = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches[0].CompletionText
        $completed | Should -Be 'newsletter'
        Set-ReplyListHandling -Name $completed -AutoReplies Exclude
        (Get-ReplyListHandling -Name newsletter).Setting | Should -Be 'Store in IMAP (without auto-generated replies)'
    }

    It '5. Processes the waiting replies' {
        . "$PSScriptRoot/Support/ImapReader.ps1"
        $fixtures = Join-Path $PSScriptRoot 'fixtures/replies'
        Add-TestImapMessage -Server $server -User 'inbound@example.test' -Path (Join-Path $fixtures 'human.eml'), (Join-Path $fixtures 'out-of-office.eml')
        $preview = @(Invoke-ReplyProcessing -WhatIf)
        $preview.Outcome | Should -Be @('WhatIf', 'WhatIf')
        $results = @(Invoke-ReplyProcessing)
        ($results | Where-Object Class -EQ 'Human').Disposition | Should -Be 'Store'
        ($results | Where-Object Class -EQ 'AutoReply').Disposition | Should -Be 'Exclude'
        @(Get-TestImapMessage -Server $server -User 'replies@example.test') | Should -HaveCount 1
    }

    It '6. Schedules processing every five minutes' {
        $schedule = Register-ReplyProcessingSchedule -Interval '00:05:00' -Platform Systemd -OutputPath $work -PassThru -InformationAction Ignore
        Get-Content (Join-Path $work 'ReplyAdmin.timer') -Raw | Should -Match 'OnUnitActiveSec=5min'
        $schedule | Should -Not -BeNullOrEmpty
    }

    It '7. Hands staff their mail-client settings and a Thunderbird profile' {
        $text = Get-ReplyMailClientSetting -Name newsletter -AsText -WarningAction Ignore
        ($text -join "`n") | Should -Match 'news@example.test'
        ($text -join "`n") | Should -Match "Port: +$($server.ImapPort)"
        ($text -join "`n") | Should -Match 'SSL/TLS \(required\)'
        Export-ReplyMailClientProfile -Name newsletter -Format Thunderbird -Path $work -WarningAction Ignore
        [xml] $profile = Get-Content (Join-Path $work 'newsletter.thunderbird.xml') -Raw
        $profile.clientConfig.emailProvider.incomingServer.port | Should -Be "$($server.ImapPort)"
        $profile.clientConfig.emailProvider.incomingServer.socketType | Should -Be 'SSL'
        $profile.OuterXml | Should -Not -Match ([regex]::Escape($env:REPLYADMIN_IMAP_PASSWORD))
    }
}
