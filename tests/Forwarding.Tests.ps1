#Requires -Version 7.0
# Forwarding through the relay (issue 15, part 2): the relay's DKIM signature and ARC seal, checked by a receiving rspamd
# whose keys a local dnsmasq serves; a loop guard that holds when a relay strips our X- header (a real Postfix with a
# header_checks IGNORE, delivering the forward back into the inbound mailbox); the signing settings' errors.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    . "$PSScriptRoot/Support/Scanners.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"

    $work = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-fwd-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $work
    & chmod 0755 $work # Postfix's cleanup (user postfix) reads the header_checks file

    # The relay's signing key (RSA 2048, PKCS#8 PEM, owner-only) and its DNS record, split into 255-octet strings.
    $rsa = [Security.Cryptography.RSA]::Create(2048)
    $keyPath = Join-Path $work 'dkim.key'
    [IO.File]::WriteAllText($keyPath, $rsa.ExportPkcs8PrivateKeyPem())
    & chmod 0600 $keyPath
    $publicKey = [Convert]::ToBase64String($rsa.ExportSubjectPublicKeyInfo())
    $dkimRecord = "relay1._domainkey.example.test,v=DKIM1; k=rsa; p=$($publicKey.Substring(0, 200)),$($publicKey.Substring(200))"

    # A relay that strips our loop-guard header, as some do, and an address that Postfix delivers back into the inbound mailbox.
    Set-Content -LiteralPath "$work/header_checks" -Value '/^X-ReplyAdmin-Forwarded:/ IGNORE'
    & chmod 0644 "$work/header_checks"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'forward@example.test' `
        -PostfixExtraConfig "header_checks = regexp:$work/header_checks`nvirtual_alias_maps = inline:{ loop@example.test=inbound@example.test }"
    # relay0: a selector whose key was revoked (an empty p=), so DNS answers for it but publishes no key.
    $scanners = Start-TestScanners -Only rspamd -DnsTxtRecords $dkimRecord, 'relay0._domainkey.example.test,v=DKIM1; k=rsa; p=' -EnableModules 'arc'

    function New-FwdReply {
        param([string] $Name, [string] $To, [string] $Token)
        $path = Join-Path $work "$Name-$Token.eml"
        $text = @(
            'Return-Path: <erika@customer.test>'
            "Received: from mail.customer.test (mail.customer.test [192.0.2.10]) by mx.example.test (Postfix) with ESMTPS id 4A$Token; $([DateTimeOffset]::UtcNow.ToString('r'))"
            'From: Erika Mustermann <erika@customer.test>', "To: $To", "Subject: Re: Our offer ($Name)"
            "Date: $([DateTimeOffset]::UtcNow.ToString('r'))", "Message-ID: <$Name.$Token@customer.test>", 'MIME-Version: 1.0'
            'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', ''
            'Hello,', '', 'thank you. Could you send me the price list for next year? Grüße', '', 'Erika', '') -join "`r`n"
        [IO.File]::WriteAllText($path, $text)
        $path
    }

    # Postfix's own count of deliveries to an address (its log), the forward counted where it leaves the relay.
    function Get-DeliveryCount {
        param([string] $OriginalRecipient)
        if (-not (Test-Path -LiteralPath $server.PostfixLogPath)) { return 0 }
        # An aliased delivery logs orig_to=<alias>; a direct one to=<address> ('orig_to' has no word boundary before 'to').
        @(Select-String -LiteralPath $server.PostfixLogPath -Pattern "(\bto|orig_to)=<$([regex]::Escape($OriginalRecipient))>.*status=sent" -ErrorAction SilentlyContinue).Count
    }

    function Wait-DeliveryCount {
        param([string[]] $Recipients, [int] $AtLeast, [int] $Seconds = 15)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while ((($Recipients | ForEach-Object { Get-DeliveryCount $_ }) | Measure-Object -Sum).Sum -lt $AtLeast -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    }

    # The receiving side: rspamd's verdict on the bytes as delivered, as seen from an outside address (not a local network).
    function Get-RspamdSymbols {
        param([byte[]] $Bytes)
        $http = [Net.Http.HttpClient]::new()
        try {
            $content = [Net.Http.ByteArrayContent]::new($Bytes)
            $request = [Net.Http.HttpRequestMessage]::new([Net.Http.HttpMethod]::Post, "$($scanners.RspamdUrl)/checkv2")
            $request.Content = $content
            $request.Headers.Add('IP', '198.51.100.25')
            $request.Headers.Add('From', 'bounces@example.test')
            $request.Headers.Add('Rcpt', 'forward@example.test')
            $request.Headers.Add('Helo', 'relay.example.test')
            $response = $http.SendAsync($request).GetAwaiter().GetResult()
            $json = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult() | ConvertFrom-Json -AsHashtable
            $json.symbols
        }
        finally { $http.Dispose() }
    }
}

AfterAll {
    if ($scanners) { Stop-TestScanners -Scanners $scanners }
    if ($server) { Stop-TestMailServer -Server $server }
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

# Once on the whole source and once over shards (several hosts): both ways must sign, seal and guard alike.
Describe 'Invoke-ReplyProcessing forwarding through a signing relay that strips X- headers (<Layout>)' -Tag Integration -ForEach @(
    @{ Layout = 'one source'; Shards = 0 }, @{ Layout = 'source in 3 shards'; Shards = 3 }) {
    BeforeAll {
        $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
        $folder = "Replies-$token"
        $config = New-TestReplyConfiguration -Server $server -ReplyFolder $folder
        if ($Shards -gt 0) { Set-ReplyCoordination -ConfigPath $config -Shards $Shards }
        $client = Connect-TestImap -Server $server -User 'replies@example.test'
        try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
        Set-ReplySmtpRelay -ConfigPath $config -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$keyPath"
        # Forwards to loop@ come back to the inbound INBOX, which is the source.
        Set-ReplySource -ConfigPath $config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
            -Folder 'INBOX' -CredentialReference 'env:REPLYADMIN_TEST_INBOUND_PW' -CertificateThumbprint $server.CertificateThumbprint `
            -ProcessedFolder "Processed-$token" -ArchiveFolder "Auto-$token"
        Add-ReplyList -ConfigPath $config -Name news -Address 'news@example.test' -Action ForwardAndStoreInImap -ForwardTo 'loop@example.test'
        Add-ReplyList -ConfigPath $config -Name offers -Address 'offers@example.test' -Action ForwardAndStoreInImap -ForwardTo 'forward@example.test'
        Add-TestImapMessage -Server $server -User 'inbound@example.test' -Path (New-FwdReply -Name 'looping' -To 'news@example.test' -Token $token),
            (New-FwdReply -Name 'signed' -To 'offers@example.test' -Token $token)

        # Postfix's log holds the deliveries of every layout: count this one's from here.
        $loopsBefore = Get-DeliveryCount 'loop@example.test'
        $deliveredBefore = $loopsBefore + (Get-DeliveryCount 'forward@example.test')
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $summaries = @()
        $forwardsReported = 0
        foreach ($run in 1..4) {
            $summary = Invoke-ReplyProcessing -ConfigPath $config -Summary
            $summaries += $summary
            $forwardsReported += $summary.Forwarded
            # Let every forward of this run reach its mailbox (and the looping one come back) before the next run.
            Wait-DeliveryCount 'loop@example.test', 'forward@example.test' -AtLeast ($deliveredBefore + $forwardsReported)
        }
        Start-Sleep -Milliseconds 500 # a late forward, if any, would show in the counts below
        $elapsed = $clock.Elapsed
        $stored = @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $folder)
        $forwarded = @(Get-TestImapMessage -Server $server -User 'forward@example.test' | Where-Object { $_.MessageId -eq "signed.$token@customer.test" })
    }

    It 'Forwards the reply that loops exactly once, though the relay removed X-ReplyAdmin-Forwarded' {
        (Get-DeliveryCount 'loop@example.test') - $loopsBefore | Should -Be 1
        $summaries[0].Forwarded | Should -Be 2
        ($summaries | Select-Object -Skip 1 | Measure-Object -Property Forwarded -Sum).Sum | Should -Be 0
        Write-Host "  4 runs with the loop took $([int]$elapsed.TotalMilliseconds) ms"
    }

    It 'Stores the copy that came back once, tagged ReplyAdmin-Loop, and the journal names the evidence' {
        $looping = @($stored | Where-Object { $_.MessageId -eq "looping.$token@customer.test" })
        $looping | Should -HaveCount 2 # the reply, and the one copy that came back
        @($looping | Where-Object { $_.Keywords -contains 'ReplyAdmin-Loop' }) | Should -HaveCount 1
        $text = [Text.Encoding]::UTF8.GetString(($looping | Where-Object { $_.Keywords -contains 'ReplyAdmin-Loop' }).Bytes)
        $text | Should -Not -Match '(?m)^X-ReplyAdmin-Forwarded:' # the relay did strip it: the guard held without it
        $entry = @(Get-ReplyJournal -ConfigPath $config -MessageId "<looping.$token@customer.test>" | Where-Object Class -EQ 'Loop')
        $entry | Should -HaveCount 1
        $entry[0].Rule | Should -BeIn 'LoopResentFrom', 'LoopReturnPath', 'LoopResentMessageId', 'LoopRelaySignature'
        $entry[0].Reason | Should -Match 'LoopResentFrom: Resent-From: bounces@example.test'
        $entry[0].Reason | Should -Match 'LoopResentMessageId'
        $entry[0].Reason | Should -Match 'LoopRelaySignature'
        $entry[0].ForwardedTo | Should -BeNullOrEmpty
    }

    It 'Signs the forward with the relay''s DKIM key, which a receiving rspamd verifies (R_DKIM_ALLOW for example.test)' {
        $forwarded | Should -HaveCount 1
        $text = [Text.Encoding]::UTF8.GetString($forwarded[0].Bytes)
        $text | Should -Match '(?m)^DKIM-Signature:.*\bd=example\.test;'
        $symbols = Get-RspamdSymbols $forwarded[0].Bytes
        $symbols.Keys | Should -Contain 'R_DKIM_ALLOW'
        ($symbols['R_DKIM_ALLOW'].options -join ' ') | Should -Match 'example\.test'
        $symbols.Keys | Should -Not -Contain 'R_DKIM_REJECT'
    }

    It 'Seals the forward with an ARC set that the receiving rspamd verifies (ARC_ALLOW)' {
        $text = [Text.Encoding]::UTF8.GetString($forwarded[0].Bytes)
        $text | Should -Match '(?m)^ARC-Seal: i=1;.*cv=none'
        # Our verification of the original, under the relay's authserv-id: the customer's reply here is unsigned.
        $text | Should -Match '(?m)^ARC-Authentication-Results: i=1; example\.test;\s+dkim=none;\s+dmarc=none\s+header\.from=customer\.test'
        $symbols = Get-RspamdSymbols $forwarded[0].Bytes
        $symbols.Keys | Should -Contain 'ARC_ALLOW'
    }

    It 'Signs what the customer sent unchanged: the 8-bit body and its headers pass through as they were' {
        $text = [Text.Encoding]::UTF8.GetString($forwarded[0].Bytes)
        $text | Should -Match 'Grüße'
        $text | Should -Match '(?m)^Content-Transfer-Encoding: 8bit'
        $text | Should -Match '(?m)^Resent-From: bounces@example.test'
    }

    It 'A changed forward no longer verifies: the receiver''s check is real' {
        $tampered = [Text.Encoding]::UTF8.GetBytes(([Text.Encoding]::UTF8.GetString($forwarded[0].Bytes)).Replace('price list', 'price-list'))
        $symbols = Get-RspamdSymbols $tampered
        $symbols.Keys | Should -Not -Contain 'R_DKIM_ALLOW'
        $symbols.Keys | Should -Contain 'R_DKIM_REJECT'
    }
}

Describe 'Test-ReplyImapConnection -Target Relay' -Tag Integration {
    BeforeAll {
        $config = New-TestReplyConfiguration -Server $server
        Set-ReplySmtpRelay -ConfigPath $config -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$keyPath"
        $dns = "127.0.0.1:$($scanners.DnsPort)"
    }

    It 'Connects to the relay and finds the published key to be the public half of the signing key' {
        $report = Test-ReplyImapConnection -ConfigPath $config -Target Relay -DnsServer $dns
        $report.Connected | Should -BeTrue
        $report.DkimRecordName | Should -Be 'relay1._domainkey.example.test'
        $report.DkimKeyChecked | Should -BeTrue
        $report.DkimKeyMatches | Should -BeTrue
        $report.Succeeded | Should -BeTrue
        Test-ReplyImapConnection -ConfigPath $config -Target Relay -DnsServer $dns -Quiet | Should -BeTrue
        # The default view says it in words.
        $shown = $report | Out-String
        $shown | Should -Match 'Signing\s*:\s*d=example\.test s=relay1'
        $shown | Should -Match 'relay1\._domainkey\.example\.test: publishes the configured key'
    }

    It 'Asks the sender checks'' DNS servers when -DnsServer is not given' {
        $configured = New-TestReplyConfiguration -Server $server
        Set-ReplySmtpRelay -ConfigPath $configured -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$keyPath"
        Set-ReplySenderAuthentication -ConfigPath $configured -DnsServer $dns
        $report = Test-ReplyImapConnection -ConfigPath $configured -Target Relay
        $report.DkimKeyChecked | Should -BeTrue -Because 'the loopback dnsmasq of Set-ReplySenderAuthentication publishes the key'
        $report.DkimKeyMatches | Should -BeTrue
    }

    It 'Refuses a -DnsServer that is not an address with DnsServerInvalid' {
        { Test-ReplyImapConnection -ConfigPath $config -Target Relay -DnsServer 'dns.example.test' -ErrorAction Stop } |
            Should -Throw -ErrorId 'DnsServerInvalid,*'
    }

    It 'Reports DkimKeyMismatch when the configured key is not the published one' {
        $other = Join-Path $work 'other.key'
        [IO.File]::WriteAllText($other, [Security.Cryptography.RSA]::Create(2048).ExportPkcs8PrivateKeyPem())
        & chmod 0600 $other
        $mismatch = New-TestReplyConfiguration -Server $server
        Set-ReplySmtpRelay -ConfigPath $mismatch -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$other"
        $report = Test-ReplyImapConnection -ConfigPath $mismatch -Target Relay -DnsServer $dns -ErrorVariable failed -ErrorAction SilentlyContinue
        $report.Connected | Should -BeTrue
        $report.DkimKeyMatches | Should -BeFalse
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'DkimKeyMismatch,*'
        "$($failed[0].ErrorDetails.RecommendedAction) $($failed[0].Exception.Message)" | Should -Not -Match 'BEGIN' # the public key is advice; the private key never shows
    }

    It 'Reports DkimKeyNotPublished when DNS answers for the selector but publishes no key (revoked)' {
        $revoked = New-TestReplyConfiguration -Server $server
        Set-ReplySmtpRelay -ConfigPath $revoked -DkimDomain 'example.test' -DkimSelector 'relay0' -DkimKeyReference "file:$keyPath"
        $report = Test-ReplyImapConnection -ConfigPath $revoked -Target Relay -DnsServer $dns -ErrorVariable failed -ErrorAction SilentlyContinue
        $report.Connected | Should -BeTrue
        $report.DkimKeyChecked | Should -BeTrue
        $report.DkimKeyMatches | Should -BeFalse
        $report.Succeeded | Should -BeFalse
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'DkimKeyNotPublished,*'
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].TargetObject | Should -Be 'relay0._domainkey.example.test'
        # The advice is the record to publish: the public half of the configured key.
        $failed[0].ErrorDetails.RecommendedAction | Should -Match ([regex]::Escape("relay0._domainkey.example.test = `"v=DKIM1; k=rsa; p=$publicKey`""))
    }

    It 'Warns, without failing, when no DNS server answers' {
        $silent = Get-TestFreeUdpPort
        $report = Test-ReplyImapConnection -ConfigPath $config -Target Relay -DnsServer "127.0.0.1:$silent" -TimeoutSeconds 1 -WarningVariable warned -WarningAction SilentlyContinue
        $report.Succeeded | Should -BeTrue
        $report.DkimKeyChecked | Should -BeFalse
        "$warned" | Should -Match 'not checked'
    }
}

Describe 'RelaySigner' -Tag Unit {
    BeforeAll {
        $signer = (Get-ReplyAdminType ReplyAdmin.Engine.Smtp.RelaySigner)::Create('example.test', 'relay1', [IO.File]::ReadAllBytes($keyPath), "file:$keyPath")
        function New-Message {
            $text = "From: Erika <erika@customer.test>`r`nTo: news@example.test`r`nSubject: Re: offer`r`nMessage-ID: <s1@customer.test>`r`nDate: Mon, 2 Mar 2026 10:00:00 +0100`r`n`r`nThanks.`r`n"
            (Get-ReplyAdminType MimeKit.MimeMessage)::Load([IO.MemoryStream]::new([Text.Encoding]::ASCII.GetBytes($text)))
        }
        function Get-Values($Message, [string] $Name) { @($Message.Headers | Where-Object Field -EQ $Name | ForEach-Object Value) }
        function Invoke-Sign($Message, [string] $Results) { $null = $signer.SignAsync($Message, $Results, [Threading.CancellationToken]::None).GetAwaiter().GetResult() }
    }

    It 'Seals the verification result the caller gives into ARC-Authentication-Results' {
        $m = New-Message
        Invoke-Sign $m 'mx.example.test; dkim=pass header.d=customer.test; spf=pass smtp.mailfrom=customer.test'
        @(Get-Values $m 'ARC-Authentication-Results')[0] | Should -Match '^i=1; mx\.example\.test; dkim=pass header\.d=customer\.test; spf=pass'
        @(Get-Values $m 'ARC-Seal')[0] | Should -Match 'cv=none'
        Get-Values $m 'DKIM-Signature' | Should -HaveCount 1
    }

    It 'Adds a second ARC set with the chain''s result as cv= when the caller verified the chain' {
        $m = New-Message
        Invoke-Sign $m $null
        Invoke-Sign $m 'example.test; arc=pass'
        $seals = @(Get-Values $m 'ARC-Seal')
        $seals | Should -HaveCount 2
        $seals[0] | Should -Match '^i=2;.*cv=pass'
    }

    It 'Adds no ARC set over an existing chain nobody verified (never cv=pass unchecked), but still signs with DKIM' {
        $m = New-Message
        Invoke-Sign $m $null
        Invoke-Sign $m $null
        Get-Values $m 'ARC-Seal' | Should -HaveCount 1
        Get-Values $m 'DKIM-Signature' | Should -HaveCount 2
    }

    It 'Gives the DNS record value of its key' {
        $signer.KeyType | Should -Be 'rsa'
        $signer.PublicKeyRecordValue | Should -Be $publicKey
    }
}

Describe 'The loop guard (ReplyClassifier with the relay''s identity)' -Tag Unit {
    BeforeAll {
        $relay = (Get-ReplyAdminType ReplyAdmin.Engine.Classification.RelayIdentity)::new('bounces@example.test', 'example.test')
        $classifier = (Get-ReplyAdminType ReplyAdmin.Engine.Classification.ReplyClassifier)::new($relay)
        function Get-Verdict {
            param([string[]] $Headers, [object] $Classifier = $classifier)
            $text = (@($Headers) + @('From: Erika <erika@customer.test>', 'To: news@example.test', 'Subject: Re: Our offer',
                'Message-ID: <r1@customer.test>', 'Date: Mon, 2 Mar 2026 10:00:00 +0100', 'Content-Type: text/plain', '', 'Thank you, send the price list.', '')) -join "`r`n"
            $stream = [IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($text))
            $message = (Get-ReplyAdminType MimeKit.MimeMessage)::Load($stream)
            $Classifier.Classify($message)
        }
        $ourId = 'Resent-Message-ID: <fwd.0123456789abcdef0123456789abcdef@example.test>'
    }

    Context 'When our forward comes back without X-ReplyAdmin-Forwarded' {
        It 'Recognises the relay''s envelope sender as Resent-From' {
            $v = Get-Verdict 'Resent-From: bounces@example.test', 'Resent-To: team@example.test', 'Resent-Date: Mon, 2 Mar 2026 10:01:00 +0100'
            $v.Class | Should -Be 'Loop'
            $v.Rule | Should -Be 'LoopResentFrom'
        }

        It 'Recognises the relay''s envelope sender as Return-Path' {
            $v = Get-Verdict 'Return-Path: <BOUNCES@example.test>'
            $v.Class | Should -Be 'Loop'
            $v.Rule | Should -Be 'LoopReturnPath'
        }

        It 'Recognises a Resent-Message-ID of our form at the relay''s domain' {
            $v = Get-Verdict $ourId, 'Resent-From: someone@elsewhere.test', 'Resent-Date: Mon, 2 Mar 2026 10:01:00 +0100'
            $v.Class | Should -Be 'Loop'
            $v.Rule | Should -Be 'LoopResentMessageId'
        }

        It 'Recognises the relay''s own DKIM signature over a Resent-* block' {
            $v = Get-Verdict 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=relay1; h=Resent-Message-ID:Resent-From:From:To:Subject; bh=AAAA; b=AAAA',
                'Resent-From: someone@elsewhere.test', 'Resent-Date: Mon, 2 Mar 2026 10:01:00 +0100'
            $v.Class | Should -Be 'Loop'
            $v.Rule | Should -Be 'LoopRelaySignature'
        }

        It 'Stops a message with more than three Resent-* blocks, whoever sent them' {
            $blocks = foreach ($i in 1..4) { "Resent-From: hop$i@elsewhere.test"; "Resent-Date: Mon, 2 Mar 2026 10:0${i}:00 +0100" }
            $v = Get-Verdict $blocks -Classifier ((Get-ReplyAdminType ReplyAdmin.Engine.Classification.ReplyClassifier)::new())
            $v.Class | Should -Be 'Loop'
            $v.Rule | Should -Be 'LoopResentBlocks'
        }

        It 'Recognises our Resent-Message-ID form without a configured relay (the forward address''s domain)' {
            $v = Get-Verdict 'Resent-Message-ID: <fwd.0123456789abcdef0123456789abcdef@team.test>' -Classifier ((Get-ReplyAdminType ReplyAdmin.Engine.Classification.ReplyClassifier)::new())
            $v.Class | Should -Be 'Loop'
        }
    }

    Context 'When Get-ReplyClassification is given the configuration' {
        It 'Classifies our forward come back as Loop with the configured relay, and as Human without it' {
            $config = New-TestConfigPath
            Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.test' -EnvelopeSender 'bounces@example.test'
            $path = Join-Path $work 'came-back.eml'
            [IO.File]::WriteAllText($path, "Resent-From: bounces@example.test`r`nResent-Date: Mon, 2 Mar 2026 10:01:00 +0100`r`nFrom: Erika <erika@customer.test>`r`nTo: news@example.test`r`nSubject: Re: offer`r`nMessage-ID: <cb@customer.test>`r`n`r`nThanks.`r`n")
            (Get-ReplyClassification -LiteralPath $path -ConfigPath $config).Class | Should -Be 'Loop'
            (Get-ReplyClassification -LiteralPath $path -ConfigPath (New-TestConfigPath)).Class | Should -Be 'Human'
        }
    }

    Context 'When a customer resends a message themselves' {
        It 'Keeps an ordinary resent reply a Human reply' {
            $v = Get-Verdict 'Resent-From: Erika <erika@customer.test>', 'Resent-To: news@example.test', 'Resent-Date: Mon, 2 Mar 2026 10:01:00 +0100',
                'Resent-Message-ID: <CAF=abc123@mail.customer.test>', 'Return-Path: <erika@customer.test>'
            $v.Class | Should -Be 'Human'
        }

        It 'Keeps three Resent-* blocks a Human reply' {
            $blocks = foreach ($i in 1..3) { "Resent-From: hop$i@customer.test"; "Resent-Date: Mon, 2 Mar 2026 10:0${i}:00 +0100" }
            (Get-Verdict $blocks).Class | Should -Be 'Human'
        }

        It 'Does not take the campaign''s own signature of the relay''s domain, resent by the customer, for ours' {
            $v = Get-Verdict 'Resent-From: erika@customer.test', 'Resent-Date: Mon, 2 Mar 2026 10:01:00 +0100',
                'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=news; h=From:To:Subject:Date:Message-ID; bh=AAAA; b=AAAA'
            $v.Class | Should -Be 'Human'
        }

        It 'Does not take a fwd.-like Resent-Message-ID of another domain for ours' {
            (Get-Verdict 'Resent-Message-ID: <fwd.0123456789abcdef0123456789abcdef@customer.test>', 'Resent-From: erika@customer.test').Class | Should -Be 'Human'
        }
    }
}

Describe 'Set-ReplySmtpRelay relay signing settings' -Tag Unit {
    BeforeAll {
        function New-RelayConfig {
            $config = New-TestConfigPath
            Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.test' -Port 587 -TlsMode StartTls -EnvelopeSender 'bounces@example.test'
            $config
        }
        function New-KeyFile([string] $Name, [string] $Text, [string] $Mode = '0600') {
            $path = Join-Path $work $Name
            [IO.File]::WriteAllText($path, $Text)
            & chmod $Mode $path
            $path
        }
    }

    It 'Stores domain, selector and the key''s reference, never the key; Get-ReplySmtpRelay shows them' {
        $config = New-RelayConfig
        Set-ReplySmtpRelay -ConfigPath $config -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$keyPath"
        $relay = Get-ReplySmtpRelay -ConfigPath $config
        $relay.DkimDomain | Should -Be 'example.test'
        $relay.DkimSelector | Should -Be 'relay1'
        $relay.DkimKeyReference | Should -Be "file:$keyPath"
        $stored = Get-Content -Raw $config
        $stored | Should -Not -Match 'PRIVATE KEY'
        $stored | Should -Not -Match ([regex]::Escape(((Get-Content $keyPath)[1]).Substring(0, 40)))
    }

    It 'Accepts an Ed25519 key (RFC 8463)' {
        $path = Join-Path $work 'ed25519.key'
        & openssl genpkey -algorithm ED25519 -out $path 2>$null
        & chmod 0600 $path
        $config = New-RelayConfig
        { Set-ReplySmtpRelay -ConfigPath $config -DkimDomain 'example.test' -DkimSelector 'ed1' -DkimKeyReference "file:$path" -ErrorAction Stop } | Should -Not -Throw
    }

    It 'Clears signing with empty strings' {
        $config = New-RelayConfig
        Set-ReplySmtpRelay -ConfigPath $config -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$keyPath"
        Set-ReplySmtpRelay -ConfigPath $config -DkimDomain '' -DkimSelector '' -DkimKeyReference ''
        (Get-ReplySmtpRelay -ConfigPath $config).DkimDomain | Should -BeNullOrEmpty
    }

    Context 'When the settings are wrong' {
        It 'Refuses <Scenario> (<ErrorId>)' -ForEach @(
            @{ Scenario = 'a key file that is not PEM'; ErrorId = 'DkimKeyUnreadable'; Category = 'InvalidData'; Key = 'garbage.key'; Text = 'not a key at all'; Mode = '0600'; Selector = 'relay1'; Domain = 'example.test'; Only = $false }
            @{ Scenario = 'an ECDSA key'; ErrorId = 'DkimKeyUnsupported'; Category = 'InvalidData'; Key = 'ec.key'; Text = 'EC'; Mode = '0600'; Selector = 'relay1'; Domain = 'example.test'; Only = $false }
            @{ Scenario = 'a public key'; ErrorId = 'DkimKeyUnsupported'; Category = 'InvalidData'; Key = 'public.key'; Text = 'PUBLIC'; Mode = '0600'; Selector = 'relay1'; Domain = 'example.test'; Only = $false }
            @{ Scenario = 'a key file others can read'; ErrorId = 'CredentialFileTooOpen'; Category = 'SecurityError'; Key = 'open.key'; Text = 'RSA'; Mode = '0644'; Selector = 'relay1'; Domain = 'example.test'; Only = $false }
            @{ Scenario = 'a key file that does not exist'; ErrorId = 'CredentialNotFound'; Category = 'ObjectNotFound'; Key = $null; Text = $null; Mode = '0600'; Selector = 'relay1'; Domain = 'example.test'; Only = $false }
            @{ Scenario = 'an invalid selector'; ErrorId = 'DkimSelectorInvalid'; Category = 'InvalidArgument'; Selector = 'relay 1'; Key = $null; Text = $null; Mode = '0600'; Domain = 'example.test'; Only = $false }
            @{ Scenario = 'an invalid domain'; ErrorId = 'DkimDomainInvalid'; Category = 'InvalidArgument'; Domain = 'example'; Key = $null; Text = $null; Mode = '0600'; Selector = 'relay1'; Only = $false }
            @{ Scenario = 'a domain without selector and key'; ErrorId = 'DkimSettingsIncomplete'; Category = 'InvalidArgument'; Only = $true; Key = $null; Text = $null; Mode = '0600'; Selector = 'relay1'; Domain = 'example.test' }
        ) {
            $config = New-RelayConfig
            $reference = "file:$keyPath"
            if ($Key -or $Scenario -like '*does not exist*') {
                $pem = switch ($Text) {
                    'EC' { [Security.Cryptography.ECDsa]::Create().ExportPkcs8PrivateKeyPem() }
                    'PUBLIC' { $rsa.ExportSubjectPublicKeyInfoPem() }
                    'RSA' { $rsa.ExportPkcs8PrivateKeyPem() }
                    default { $Text }
                }
                $reference = if ($Key) { "file:$(New-KeyFile $Key $pem $Mode)" } else { "file:$work/missing.key" }
            }
            $params = @{ DkimDomain = $Domain; DkimSelector = $Selector; DkimKeyReference = $reference }
            if ($Only) { $params = @{ DkimDomain = 'example.test' } }
            $err = $null
            try { Set-ReplySmtpRelay -ConfigPath $config @params -ErrorAction Stop } catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            "$($err.CategoryInfo.Category)" | Should -Be $Category
            # The key never shows in the error
            "$err" | Should -Not -Match 'BEGIN|MII'
            (Get-ReplySmtpRelay -ConfigPath $config).DkimDomain | Should -BeNullOrEmpty
        }
    }
}
