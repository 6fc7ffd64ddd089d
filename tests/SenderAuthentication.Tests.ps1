#Requires -Version 7.0
Set-StrictMode -Version Latest

# Sender authentication and forward modes (issue #15, part 1), against real servers: dnsmasq publishes the customers'
# DKIM keys and DMARC policies, Postfix relays the forwards into Dovecot, rspamd judges them as the forward address's
# provider would. Unit tests cover the Public Suffix List, DMARC records, the mode decision and the composer.

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Scanners.ps1"
    . "$PSScriptRoot/Support/SenderAuth.ps1"

    $script:PublicSuffixList = Get-ReplyAdminType 'ReplyAdmin.Engine.SenderAuthentication.PublicSuffixList'
    $script:DmarcRecord = Get-ReplyAdminType 'ReplyAdmin.Engine.SenderAuthentication.DmarcRecord'
    $script:ForwardPlan = Get-ReplyAdminType 'ReplyAdmin.Engine.SenderAuthentication.ForwardPlan'
    $script:ForwardComposer = Get-ReplyAdminType 'ReplyAdmin.Engine.SenderAuthentication.ForwardComposer'
    $script:SenderVerification = Get-ReplyAdminType 'ReplyAdmin.Engine.SenderAuthentication.SenderVerification'
    $script:ForwardMode = Get-ReplyAdminType 'ReplyAdmin.Engine.SenderAuthentication.ForwardMode'
    $script:MimeMessage = Get-ReplyAdminType 'MimeKit.MimeMessage'
    function Read-TestMessage([string] $Text) { $MimeMessage::Load([IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($Text))) }
    function Get-MessageBytes($Message) { $b = [IO.MemoryStream]::new(); $Message.WriteTo($b); , $b.ToArray() }
}

Describe 'Sender authentication units' -Tag Unit {
    Context 'When the organizational domain comes from the Public Suffix List' {
        It 'Finds <Expected> for <Domain>' -ForEach @(
            @{ Domain = 'mail.shop.example.co.uk'; Expected = 'example.co.uk' }
            @{ Domain = 'customer.test'; Expected = 'customer.test' }
            @{ Domain = 'a.b.customer.test'; Expected = 'customer.test' }
            @{ Domain = 'co.uk'; Expected = 'co.uk' }
            @{ Domain = 'x.y.kawasaki.jp'; Expected = 'x.y.kawasaki.jp' }
            @{ Domain = 'www.city.kawasaki.jp'; Expected = 'city.kawasaki.jp' }
            @{ Domain = 'Mail.Example.COM.'; Expected = 'example.com' }
            @{ Domain = 'shop.bücher.de'; Expected = 'xn--bcher-kva.de' }
        ) {
            $list = $PublicSuffixList::FromRules([string[]] @('// comment', 'uk', 'co.uk', 'jp', '*.kawasaki.jp', '!city.kawasaki.jp', 'com', 'de'))
            $list.OrganizationalDomain($Domain) | Should -Be $Expected
        }

        It 'Reads Debian''s list when installed and falls back to a built-in list that knows co.uk' {
            $default = $PublicSuffixList::Default
            if (Test-Path $PublicSuffixList::DebianPath) { $default.Source | Should -Be $PublicSuffixList::DebianPath; $default.Count | Should -BeGreaterThan 5000 }
            $builtIn = $PublicSuffixList::BuiltInList()
            $builtIn.OrganizationalDomain('a.b.example.co.uk') | Should -Be 'example.co.uk'
            $builtIn.SameOrganization('mail.customer.test', 'customer.test') | Should -BeTrue
            $builtIn.SameOrganization('one.co.uk', 'two.co.uk') | Should -BeFalse
        }
    }

    Context 'When a DMARC record is parsed' {
        It 'Reads <Text> as <Policy>' -ForEach @(
            @{ Text = 'v=DMARC1; p=reject'; Policy = 'reject'; Sp = $null; Strict = $false }
            @{ Text = 'v=DMARC1;p=Quarantine;sp=none;adkim=s'; Policy = 'quarantine'; Sp = 'none'; Strict = $true }
            @{ Text = 'v=DMARC1; p=none; rua=mailto:d@customer.test'; Policy = 'none'; Sp = $null; Strict = $false }
        ) {
            $record = $null
            $DmarcRecord::TryParse($Text, [ref] $record) | Should -BeTrue
            $record.Policy | Should -Be $Policy
            $record.SubdomainPolicy | Should -Be $Sp
            $record.StrictDkim | Should -Be $Strict
        }

        It 'Refuses <Text>' -ForEach @(
            @{ Text = 'p=reject' }, @{ Text = 'v=DMARC1' }, @{ Text = 'v=spf1 -all' }, @{ Text = 'v=DMARC1; p=block' }, @{ Text = '' }
        ) {
            $record = $null
            $DmarcRecord::TryParse($Text, [ref] $record) | Should -BeFalse
        }
    }

    Context 'When Auto decides the forward mode' {
        It 'Forwards <Case> as <Mode>' -ForEach @(
            @{ Case = 'an aligned DKIM pass'; Aligned = $true; Dmarc = 'pass'; Policy = 'reject'; Mode = 'Unchanged' }
            @{ Case = 'p=reject without alignment'; Aligned = $false; Dmarc = 'fail'; Policy = 'reject'; Mode = 'Rewrite' }
            @{ Case = 'p=quarantine without alignment'; Aligned = $false; Dmarc = 'fail'; Policy = 'quarantine'; Mode = 'Rewrite' }
            @{ Case = 'p=none'; Aligned = $false; Dmarc = 'fail'; Policy = 'none'; Mode = 'Unchanged' }
            @{ Case = 'no policy'; Aligned = $false; Dmarc = 'none'; Policy = $null; Mode = 'Unchanged' }
            @{ Case = 'a failed lookup'; Aligned = $false; Dmarc = 'temperror'; Policy = $null; Mode = 'Rewrite' }
        ) {
            $v = $SenderVerification::new()
            $v.FromDomain = 'customer.test'; $v.PolicyDomain = 'customer.test'; $v.Aligned = $Aligned; $v.Dmarc = $Dmarc; $v.Policy = $Policy; $v.DkimDomain = 'customer.test'
            $plan = $ForwardPlan::Decide('Auto', $v, 'news', 'bounces@example.test')
            "$($plan.Mode)" | Should -Be $Mode
        }

        It 'Forwards unchanged, and says why, when no relay address is configured to rewrite to' {
            $v = $SenderVerification::new(); $v.FromDomain = 'customer.test'; $v.PolicyDomain = 'customer.test'; $v.Dmarc = 'fail'; $v.Policy = 'reject'
            $plan = $ForwardPlan::Decide('Auto', $v, 'news', $null)
            "$($plan.Mode)" | Should -Be 'Unchanged'
            $plan.Reason | Should -Match 'EnvelopeSender'
        }
    }

    Context 'When the composer rewrites or wraps a reply' {
        BeforeAll {
            $script:original = Read-TestMessage (New-TestReplyText -From 'Anna Kunde <anna@customer.test>' -To 'news@example.test' -Token 'compose1')
            $v = $SenderVerification::new(); $v.FromDomain = 'customer.test'; $v.PolicyDomain = 'customer.test'; $v.Dmarc = 'fail'; $v.Policy = 'reject'
            $script:rewrite = $ForwardPlan::Decide('Rewrite', $v, 'news', 'bounces@example.test')
            $script:wrap = $ForwardPlan::Decide('Wrap', $v, 'news', 'bounces@example.test')
        }

        It 'Rewrites From to "Name via list" at the relay, Reply-To the customer, X-Original-From kept, Message-ID unchanged' {
            $m = $ForwardComposer::Compose($original, $rewrite)
            $m.From.Mailboxes[0].Address | Should -Be 'bounces@example.test'
            $m.From.Mailboxes[0].Name | Should -Be 'Anna Kunde via news'
            $m.ReplyTo.Mailboxes[0].Address | Should -Be 'anna@customer.test'
            $m.Headers['X-Original-From'] | Should -Be 'Anna Kunde <anna@customer.test>'
            $m.MessageId | Should -Be 'compose1@client.test'
            $original.From.Mailboxes[0].Address | Should -Be 'anna@customer.test' -Because 'the original is never changed'
        }

        It 'Gives the same bytes for the same original in <Mode> mode (a repeated forward is recognisable)' -ForEach @(@{ Mode = 'rewrite' }, @{ Mode = 'wrap' }) {
            $plan = Get-Variable $Mode -ValueOnly
            $a = Get-MessageBytes ($ForwardComposer::Compose($original, $plan))
            Start-Sleep -Milliseconds 1100
            $b = Get-MessageBytes ($ForwardComposer::Compose($original, $plan))
            [Convert]::ToBase64String($a) | Should -Be ([Convert]::ToBase64String($b))
        }

        It 'Wraps the reply unchanged as message/rfc822 in a message from the relay' {
            $m = $ForwardComposer::Compose($original, $wrap)
            $m.From.Mailboxes[0].Address | Should -Be 'bounces@example.test'
            $m.ReplyTo.Mailboxes[0].Address | Should -Be 'anna@customer.test'
            $m.MessageId | Should -Match '^wrap\.[0-9a-f]{24}@example\.test$'
            $attached = @($m.BodyParts | Where-Object { $_.ContentType.MimeType -eq 'message/rfc822' })
            $attached | Should -HaveCount 1
            $attached[0].Message.MessageId | Should -Be 'compose1@client.test'
            $attached[0].Message.From.Mailboxes[0].Address | Should -Be 'anna@customer.test'
        }
    }
}

Describe 'Forwarding with sender authentication' -Tag Integration {
    BeforeAll {
        $script:server = Start-TestMailServer
        $script:work = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-senderauth-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $work
        $script:customerKey = New-TestDkimKey -Domain 'customer.test' -Selector 's1' -Directory "$work/keys"
        # The relay signs as example.test (Set-ReplySmtpRelay -Dkim*), which also publishes p=reject: a rewritten forward passes on that.
        $script:relayKey = New-TestDkimKey -Domain 'example.test' -Selector 'relay1' -Directory "$work/keys"
        $dns = New-TestDnsRecordArguments -Keys $customerKey, $relayKey -Dmarc @{ 'customer.test' = 'v=DMARC1; p=reject'; 'lenient.test' = 'v=DMARC1; p=none'; 'example.test' = 'v=DMARC1; p=reject' }
        $script:scanners = Start-TestScanners -Only rspamd -DnsArguments $dns -VerifySenders

        function New-SenderScenario([string] $DnsServer, [long] $MaxMessageSize = 0) {
            $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
            $folder = "Replies-$token"
            $config = New-TestReplyConfiguration -Server $server -ReplyFolder $folder
            if ($MaxMessageSize) { Set-ReplyMailbox -ConfigPath $config -MaxMessageSize $MaxMessageSize }
            $client = Connect-TestImap -Server $server -User 'replies@example.test'
            try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
            Add-ReplyList -ConfigPath $config -Name news -Address 'news@example.test'
            Set-ReplyListHandling -ConfigPath $config -Name news -Action ForwardAndStoreInImap -ForwardTo 'forward@example.test'
            Set-ReplySenderAuthentication -ConfigPath $config -DnsServer $DnsServer -DnsTimeoutSeconds 1
            Set-ReplySmtpRelay -ConfigPath $config -DkimDomain 'example.test' -DkimSelector 'relay1' -DkimKeyReference "file:$($relayKey.KeyPath)"
            [pscustomobject]@{ Token = $token; Folder = $folder; Config = $config; Dir = (Split-Path $config) }
        }

        function Write-Reply($Scenario, [string] $Name, [byte[]] $Bytes) {
            $path = Join-Path $Scenario.Dir "$Name.eml"; [IO.File]::WriteAllBytes($path, $Bytes); $path
        }

        # Forwards arrive through Postfix and LMTP a moment later: wait for those whose Subject carries a token.
        function Wait-Forwarded([string[]] $Tokens, [int] $Expected) {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            do {
                $found = @(Get-TestImapMessage -Server $server -User 'forward@example.test' | Where-Object { $s = $_.Subject; $Tokens | Where-Object { $s -like "*$_*" } })
                if ($found.Count -ge $Expected) { break }
                Start-Sleep -Milliseconds 200
            } while ([DateTime]::UtcNow -lt $deadline)
            $found
        }

        # One run over the main cases, with the dnsmasq records.
        $script:main = New-SenderScenario -DnsServer "127.0.0.1:$($scanners.DnsPort)"
        $t = $main.Token
        $script:tokens = @{ Signed = "dkim-$t"; Unsigned = "plain-$t"; Tampered = "tampered-$t"; Lenient = "lenient-$t" }
        $signedBytes = New-TestSignedMessageBytes -Key $customerKey -Text (New-TestReplyText -From 'Anna Kunde <anna@customer.test>' -To 'news@example.test' -Token $tokens.Signed)
        $script:unsignedBytes = [Text.Encoding]::ASCII.GetBytes((New-TestReplyText -From 'Bert Kunde <bert@customer.test>' -To 'news@example.test' -Token $tokens.Unsigned))
        $tampered = New-TestSignedMessageBytes -Key $customerKey -Text (New-TestReplyText -From 'Chef <ceo@customer.test>' -To 'news@example.test' -Token $tokens.Tampered -Body 'Please pay invoice 1.')
        $tamperedText = [Text.Encoding]::ASCII.GetString($tampered).Replace('invoice 1.', 'invoice 9.')
        $lenient = [Text.Encoding]::ASCII.GetBytes((New-TestReplyText -From 'Dora <dora@lenient.test>' -To 'news@example.test' -Token $tokens.Lenient))
        $files = @(
            Write-Reply $main 'signed' $signedBytes
            Write-Reply $main 'unsigned' $unsignedBytes
            Write-Reply $main 'tampered' ([Text.Encoding]::ASCII.GetBytes($tamperedText))
            Write-Reply $main 'lenient' $lenient
        )
        $script:results = @(Invoke-ReplyProcessing -ConfigPath $main.Config -Path $files)
        $script:forwarded = @(Wait-Forwarded -Tokens $tokens.Values -Expected 3)
        $script:stored = @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $main.Folder)
        function Get-Result([string] $Key) { $results | Where-Object { $_.Subject -like "*$($tokens[$Key])*" } }
        function Get-Forward([string] $Key) { @($forwarded | Where-Object { $_.Subject -like "*$($tokens[$Key])*" }) }
        function Test-Receiver([byte[]] $Bytes) { (Invoke-TestRspamdCheck -RspamdUrl $scanners.RspamdUrl -Bytes $Bytes).Symbols }
    }

    AfterAll {
        if ($scanners) { Stop-TestScanners -Scanners $scanners }
        if ($server) { Stop-TestMailServer -Server $server }
        if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
    }

    Context 'When a reply carries a DKIM signature of its From domain (p=reject)' {
        It 'Forwards it unchanged, and the receiver''s DMARC passes' {
            $r = Get-Result 'Signed'
            $r.ForwardMode | Should -Be 'Unchanged'
            $r.SenderAuthentication.Dkim | Should -Be 'pass'
            $r.SenderAuthentication.Aligned | Should -BeTrue
            $r.Actions | Should -Contain 'Forwarded (unchanged: aligned DKIM signature of customer.test) to forward@example.test'
            $f = Get-Forward 'Signed'
            $f | Should -HaveCount 1
            Get-TestHeaderBlock $f[0].Bytes | Should -Match '(?m)^From: Anna Kunde <anna@customer\.test>'
            $symbols = Test-Receiver $f[0].Bytes
            $symbols | Should -Contain 'R_DKIM_ALLOW'
            $symbols | Should -Contain 'DMARC_POLICY_ALLOW'
        }
    }

    Context 'When an unsigned reply comes from a p=reject domain' {
        It 'Rewrites From to the relay''s domain, with Reply-To the customer and X-Original-From' {
            $r = Get-Result 'Unsigned'
            $r.ForwardMode | Should -Be 'Rewrite'
            $r.SenderAuthentication.Dmarc | Should -Be 'unknown' -Because 'without our MTA''s verdict SPF cannot be judged, so it is not called spoofed'
            $r.Actions | Should -Contain 'Forwarded (From rewritten: customer.test publishes p=reject) to forward@example.test'
            $f = Get-Forward 'Unsigned'
            $f | Should -HaveCount 1
            $head = Get-TestHeaderBlock $f[0].Bytes
            $head | Should -Match '(?m)^From: "?Bert Kunde via news"? <bounces@example\.test>'
            $head | Should -Match '(?m)^Reply-To: Bert Kunde <bert@customer\.test>'
            $head | Should -Match '(?m)^X-Original-From: Bert Kunde <bert@customer\.test>'
            $head | Should -Match '(?m)^Message-ID: <plain-'
        }

        It 'Leaves the receiver nothing of customer.test''s policy to apply (the unchanged original would be rejected)' {
            (Test-Receiver $unsignedBytes) | Should -Contain 'DMARC_POLICY_REJECT' -Because 'the receiver rejects the original as it came'
            $symbols = Test-Receiver (Get-Forward 'Unsigned')[0].Bytes
            $symbols | Should -Not -Contain 'DMARC_POLICY_REJECT'
            $symbols | Should -Not -Contain 'DMARC_POLICY_QUARANTINE'
        }

        It 'Is signed and sealed by the relay, so the receiver''s DKIM, DMARC (example.test, p=reject) and ARC pass' {
            $symbols = Test-Receiver (Get-Forward 'Unsigned')[0].Bytes
            $symbols | Should -Contain 'R_DKIM_ALLOW'
            $symbols | Should -Contain 'DMARC_POLICY_ALLOW'
            $symbols | Should -Contain 'ARC_ALLOW'
        }
    }

    Context 'When a signed reply was changed on the way (tampered)' {
        It 'Stores it with $Phishing, read back over IMAP, and does not forward it' {
            $r = Get-Result 'Tampered'
            $r.Disposition | Should -Be 'Store'
            $r.ForwardedTo | Should -BeNullOrEmpty
            $r.SenderAuthentication.Dkim | Should -Be 'fail'
            $r.SenderAuthentication.Spoofed | Should -BeTrue
            $r.Reason | Should -Match 'sender not authenticated: customer\.test publishes p=reject'
            $copy = @($stored | Where-Object { $_.Subject -like "*$($tokens.Tampered)*" })
            $copy | Should -HaveCount 1
            $copy[0].Keywords | Should -Contain '$Phishing'
            Get-Forward 'Tampered' | Should -HaveCount 0
        }

        It 'Records the verdicts in the journal' {
            $line = Get-ReplyJournal -ConfigPath $main.Config | Where-Object { $_.Subject -like "*$($tokens.Tampered)*" } | Select-Object -Last 1
            $line.SenderAuthentication.Dmarc | Should -Be 'fail'
            $line.SenderAuthentication.Policy | Should -Be 'reject'
        }
    }

    Context 'When our MTA''s Authentication-Results judged an unsigned reply of a p=reject domain' {
        It 'Calls it spoofed when nothing aligned passed, and not when SPF passed aligned (<Spf>)' -ForEach @(@{ Spf = 'fail'; Spoofed = $true; Forward = 'NotForwarded' }, @{ Spf = 'pass'; Spoofed = $false; Forward = 'Rewrite' }) {
            $path = Join-Path $work "mta-$Spf.eml"
            Set-Content -LiteralPath $path -NoNewline -Value ("Authentication-Results: mx.example.test; spf=$Spf smtp.mailfrom=bert@customer.test`r`n" +
                (New-TestReplyText -From 'Bert <bert@customer.test>' -To 'news@example.test' -Token "mta-$Spf"))
            Set-ReplySenderAuthentication -ConfigPath $main.Config -AuthservId 'mx.example.test'
            $report = Test-ReplySenderAuthentication -ConfigPath $main.Config -Path $path -ListName news
            $report.Spoofed | Should -Be $Spoofed
            $report.Dmarc | Should -Be $(if ($Spoofed) { 'fail' } else { 'pass' })
            # SPF does not survive a forward: an SPF-authenticated reply of a p=reject domain is still rewritten.
            $report.Forward | Should -Be $Forward
        }
    }

    Context 'When an unsigned reply comes from a p=none domain' {
        It 'Forwards it unchanged' {
            (Get-Result 'Lenient').ForwardMode | Should -Be 'Unchanged'
            $f = Get-Forward 'Lenient'
            $f | Should -HaveCount 1
            Get-TestHeaderBlock $f[0].Bytes | Should -Match '(?m)^From: Dora <dora@lenient\.test>'
        }
    }

    Context 'When the DNS server does not answer' {
        It 'Rewrites From (Auto) and the result says temperror' {
            $down = New-SenderScenario -DnsServer "127.0.0.1:$(Get-TestFreeUdpPort)"
            $token = "dnsdown-$($down.Token)"
            $file = Write-Reply $down 'dnsdown' ([Text.Encoding]::ASCII.GetBytes((New-TestReplyText -From 'Eva <eva@lenient.test>' -To 'news@example.test' -Token $token)))
            $r = @(Invoke-ReplyProcessing -ConfigPath $down.Config -Path $file)
            $r[0].Outcome | Should -Be 'Done'
            $r[0].SenderAuthentication.Dmarc | Should -Be 'temperror'
            $r[0].ForwardMode | Should -Be 'Rewrite'
            $f = @(Wait-Forwarded -Tokens $token -Expected 1)
            Get-TestHeaderBlock $f[0].Bytes | Should -Match '(?m)^From: "?Eva via news"? <bounces@example\.test>'
        }
    }

    Context 'When a reply on a forwarding list is too large' {
        It 'Sends the notice to the forward address too' {
            $small = New-SenderScenario -DnsServer "127.0.0.1:$($scanners.DnsPort)" -MaxMessageSize 4096
            $token = "large-$($small.Token)"
            $file = Write-Reply $small 'large' ([Text.Encoding]::ASCII.GetBytes((New-TestReplyText -From 'Fritz <fritz@lenient.test>' -To 'news@example.test' -Token $token -Body (('x' * 70 + "`r`n") * 100))))
            $r = @(Invoke-ReplyProcessing -ConfigPath $small.Config -Path $file)
            $r[0].Disposition | Should -Be 'Reject'
            $r[0].Actions | Should -Contain 'Notice forwarded to forward@example.test'
            $f = @(Wait-Forwarded -Tokens $token -Expected 1)
            $f | Should -HaveCount 1
            $f[0].Subject | Should -BeLike '`[ReplyAdmin`] Reply not stored:*'
            Get-TestHeaderBlock $f[0].Bytes | Should -Match '(?m)^From: "?ReplyAdmin via news"? <bounces@example\.test>'
        }
    }

    Context 'When the native runner forwards a signed and an unsigned reply of a p=reject domain' {
        It 'Forwards the signed one unchanged and the unsigned one rewritten, signed and sealed, and the receiver''s DKIM, DMARC and ARC pass' {
            $native = New-SenderScenario -DnsServer "127.0.0.1:$($scanners.DnsPort)"
            $inbound = Join-Path $native.Dir 'inbound'
            $null = New-Item -ItemType Directory -Path $inbound
            Set-ReplySource -ConfigPath $native.Config -Kind Directory -Path $inbound
            $signed = "native-dkim-$($native.Token)"; $unsigned = "native-plain-$($native.Token)"
            [IO.File]::WriteAllBytes("$inbound/signed.eml", (New-TestSignedMessageBytes -Key $customerKey -Text (New-TestReplyText -From 'Anna Kunde <anna@customer.test>' -To 'news@example.test' -Token $signed)))
            [IO.File]::WriteAllBytes("$inbound/unsigned.eml", [Text.Encoding]::ASCII.GetBytes((New-TestReplyText -From 'Bert Kunde <bert@customer.test>' -To 'news@example.test' -Token $unsigned)))
            $run = Invoke-ScheduledRun $native.Config -Program Native
            $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
            $run.Output | Should -HaveCount 1
            $run.Output[0] | Should -Match '^ReplyAdmin run \S+: 2 messages: 2 stored \(2 forwarded, 0 unrouted\), 0 excluded, 0 rejected, 0 failed'
            $f = @(Wait-Forwarded -Tokens $signed, $unsigned -Expected 2)
            $unchanged = @($f | Where-Object Subject -Like "*$signed*"); $rewritten = @($f | Where-Object Subject -Like "*$unsigned*")
            $unchanged | Should -HaveCount 1
            $rewritten | Should -HaveCount 1
            Get-TestHeaderBlock $unchanged[0].Bytes | Should -Match '(?m)^From: Anna Kunde <anna@customer\.test>'
            Get-TestHeaderBlock $rewritten[0].Bytes | Should -Match '(?m)^From: "?Bert Kunde via news"? <bounces@example\.test>'
            Test-Receiver $unchanged[0].Bytes | Should -Contain 'DMARC_POLICY_ALLOW'
            $symbols = Test-Receiver $rewritten[0].Bytes
            foreach ($symbol in 'R_DKIM_ALLOW', 'DMARC_POLICY_ALLOW', 'ARC_ALLOW') { $symbols | Should -Contain $symbol }
        }
    }
}

Describe 'Test-ReplySenderAuthentication' -Tag Integration {
    BeforeAll {
        $script:work2 = Join-Path ([IO.Path]::GetTempPath()) ("replyadmin-senderauth-t-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $work2
        $script:config2 = Join-Path $work2 'config.json'
        Set-ReplySenderAuthentication -ConfigPath $config2 -DnsServer "127.0.0.1:$(Get-TestFreeUdpPort)" -DnsTimeoutSeconds 1 -AuthservId 'mx.example.test'
        $script:eml = Join-Path $work2 'reply.eml'
        Set-Content -LiteralPath $eml -NoNewline -Value ("Authentication-Results: mx.example.test; dkim=pass header.d=customer.test; dmarc=pass header.from=customer.test`r`n" +
            (New-TestReplyText -From 'Anna <anna@customer.test>' -To 'news@example.test' -Token 'cmdlet1'))
    }
    AfterAll { Remove-Item -LiteralPath $work2 -Recurse -Force -ErrorAction SilentlyContinue }

    It 'Shows the verdicts and what Auto would do when DNS does not answer' {
        $report = Test-ReplySenderAuthentication -ConfigPath $config2 -Path $eml
        $report.Dmarc | Should -Be 'pass' -Because 'our MTA''s Authentication-Results (our authserv-id) says dmarc=pass'
        $report.Verification.MtaResults | Should -Match '^mx\.example\.test: '
        $report.Aligned | Should -BeFalse -Because 'no signature verified here, so an unchanged forward would not pass'
        $report.Forward | Should -Be 'Unchanged' -Because 'no relay envelope sender is configured to rewrite to'
        $report.ForwardReason | Should -Match 'temperror'
    }

    It 'Ignores Authentication-Results of another authserv-id' {
        Set-ReplySenderAuthentication -ConfigPath $config2 -AuthservId 'other.example.test'
        (Test-ReplySenderAuthentication -ConfigPath $config2 -Path $eml).Dmarc | Should -Be 'temperror'
    }

    It 'Refuses a bad DNS server with DnsServerInvalid' {
        { Set-ReplySenderAuthentication -ConfigPath $config2 -DnsServer 'dns.example' -ErrorAction Stop } | Should -Throw -ErrorId 'DnsServerInvalid,ReplyAdmin.Commands.SetReplySenderAuthenticationCommand'
    }

    It 'Sets and shows a list''s forward mode' {
        Add-ReplyList -ConfigPath $config2 -Name news -Address 'news@example.test'
        Set-ReplyList -ConfigPath $config2 -Name news -ForwardMode Wrap -ForwardUnauthenticated
        $list = Get-ReplyList -ConfigPath $config2 -Name news
        "$($list.ForwardMode)" | Should -Be 'Wrap'
        $list.ForwardUnauthenticated | Should -BeTrue
        (Get-Command Set-ReplyList).Parameters['ForwardMode'].ParameterType.IsEnum | Should -BeTrue
    }
}
