#Requires -Version 7.0
Set-StrictMode -Version Latest

BeforeDiscovery {
    # The decision table, one row per verdict shape; expectations are spelled out per failure mode and forward choice.
    $verdicts = @(
        @{ Shape = 'clean (no action)'; Kind = 'Clean'; Action = 'NoAction'; Phishing = $false }
        @{ Shape = 'greylist'; Kind = 'Clean'; Action = 'Greylist'; Phishing = $false }
        @{ Shape = 'add header'; Kind = 'Spam'; Action = 'AddHeader'; Phishing = $false }
        @{ Shape = 'rewrite subject'; Kind = 'Spam'; Action = 'RewriteSubject'; Phishing = $false }
        @{ Shape = 'soft reject'; Kind = 'Spam'; Action = 'SoftReject'; Phishing = $false }
        @{ Shape = 'reject'; Kind = 'Spam'; Action = 'Reject'; Phishing = $false }
        @{ Shape = 'phishing'; Kind = 'Phishing'; Action = 'NoAction'; Phishing = $true }
        @{ Shape = 'virus'; Kind = 'Virus'; Action = 'NoAction'; Phishing = $false }
        @{ Shape = 'unreachable'; Kind = 'Unreachable'; Action = 'NoAction'; Phishing = $false }
        @{ Shape = 'error'; Kind = 'Error'; Action = 'NoAction'; Phishing = $false }
        @{ Shape = 'too large'; Kind = 'TooLarge'; Action = 'NoAction'; Phishing = $false }
    )
    $script:DecisionCases = foreach ($v in $verdicts) {
        foreach ($mode in 'FailClosed', 'FailOpen') {
            foreach ($allow in $false, $true) {
                foreach ($forwards in $false, $true) {
                    $expect = switch ($v.Shape) {
                        { $_ -in 'clean (no action)', 'greylist' } { @{ Outcome = 'Proceed'; Store = $true; Forward = $forwards; Notice = $false; Keywords = @() } }
                        { $_ -in 'add header', 'rewrite subject', 'soft reject' } { @{ Outcome = 'Proceed'; Store = $true; Forward = ($forwards -and $allow); Notice = $false; Keywords = @('$Junk') } }
                        'reject' { @{ Outcome = 'Proceed'; Store = $true; Forward = $false; Notice = $false; Keywords = @('$Junk') } }
                        'phishing' { @{ Outcome = 'Proceed'; Store = $true; Forward = ($forwards -and $allow); Notice = $false; Keywords = @('$Phishing') } }
                        'virus' { @{ Outcome = 'Quarantine'; Store = $false; Forward = $false; Notice = $true; Keywords = @() } }
                        { $_ -in 'unreachable', 'error' } {
                            if ($mode -eq 'FailClosed') { @{ Outcome = 'Defer'; Store = $false; Forward = $false; Notice = $false; Keywords = @() } }
                            else { @{ Outcome = $(if ($forwards) { 'DeferForward' } else { 'Proceed' }); Store = $true; Forward = $false; Notice = $false; Keywords = @('ReplyAdmin-Unscanned') } }
                        }
                        'too large' {
                            if ($mode -eq 'FailClosed') { @{ Outcome = 'Reject'; Store = $false; Forward = $false; Notice = $true; Keywords = @() } }
                            else { @{ Outcome = 'Proceed'; Store = $true; Forward = $false; Notice = $false; Keywords = @('ReplyAdmin-Unscanned') } }
                        }
                    }
                    $v + $expect + @{ Mode = $mode; Allow = $allow; Forwards = $forwards }
                }
            }
        }
    }
}

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force

    # Engine types live in ReplyAdmin's own load context, where PowerShell's [type] literals do not look.
    $script:MessageHeaderReader = Get-ReplyAdminType 'ReplyAdmin.Engine.Classification.MessageHeaderReader'
    $script:ReplyList = Get-ReplyAdminType 'ReplyAdmin.Engine.Configuration.ReplyList'
    $script:ClamdScanner = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ClamdScanner'
    $script:HeaderTrustScanner = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.HeaderTrustScanner'
    $script:QuarantineNotice = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.QuarantineNotice'
    $script:RspamdScanner = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.RspamdScanner'
    $script:ScanDecision = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ScanDecision'
    $script:ScanEnvelope = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ScanEnvelope'
    $script:ScanPolicy = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ScanPolicy'
    $script:ScanSymbol = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ScanSymbol'
    $script:ScanVerdict = Get-ReplyAdminType 'ReplyAdmin.Engine.Scanning.ScanVerdict'
    function ConvertTo-ReplyAdminArray([string] $Type, [object[]] $Items) { , ($Items -as (Get-Variable $Type -ValueOnly).MakeArrayType()) }
    function New-ReplyAdminObject([string] $Type, [hashtable] $Properties) {
        $o = (Get-Variable $Type -ValueOnly)::new()
        foreach ($k in $Properties.Keys) { $o.$k = $Properties[$k] }
        $o
    }

    function New-Verdict {
        param([string] $Scanner = 'rspamd', [string] $Kind = 'Clean', [string] $Action = 'NoAction', [bool] $Phishing = $false,
            [Nullable[double]] $Score = $null, [string] $Virus = $null, [object[]] $Symbols = $null)
        if ($Kind -eq 'Virus' -and -not $Virus) { $Virus = 'Test.Virus' }
        $list = if ($Symbols) { ConvertTo-ReplyAdminArray ScanSymbol $Symbols } else { $null }
        $ScanVerdict::new($Scanner, $Kind, $Action, $Score, [Nullable[double]] 15.0, $list, $Virus, $Phishing, $null, $(if ($Kind -in 'Unreachable', 'Error', 'TooLarge') { "$Kind for the test" }), [TimeSpan]::Zero)
    }

    function Read-TestHeaders([string] $Text) {
        $stream = [IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($Text))
        , $MessageHeaderReader::ReadHeaders($stream) # the comma keeps PowerShell from unrolling the list
    }

    $script:Policy = { param($Mode, $Allow, $Headers) $p = $ScanPolicy::new(); $p.OnScannerFailure = $Mode; $p.ForwardSuspectedSpam = $Allow; $p.AddSpamHeaders = [bool]$Headers; $p }
}

Describe 'ScanDecision' -Tag Unit {
    Context 'When one scanner gives a verdict' {
        It 'Decides <Shape> (<Mode>, forward suspected spam <Allow>, list forwards <Forwards>) as <Outcome>' -TestCases $DecisionCases {
            param($Shape, $Kind, $Action, $Phishing, $Mode, $Allow, $Forwards, $Outcome, $Store, $Forward, $Notice, $Keywords)
            $verdict = New-Verdict -Kind $Kind -Action $Action -Phishing $Phishing -Score 3
            $decision = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @($verdict)), (& $Policy $Mode $Allow), $Forwards)
            $decision.Outcome | Should -Be $Outcome
            $decision.Store | Should -Be $Store
            $decision.Forward | Should -Be $Forward
            $decision.Notice | Should -Be $Notice
            @($decision.Keywords) | Should -Be $Keywords
            $decision.Reason | Should -Not -BeNullOrEmpty
        }
    }

    Context 'When several scanners answer' {
        It 'Quarantines a virus even when another scanner is unreachable or calls it clean' {
            $d = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Kind Unreachable), (New-Verdict -Scanner clamd -Kind Virus -Virus 'Eicar'))), (& $Policy FailOpen $true), $true)
            $d.Outcome | Should -Be 'Quarantine'
            $d.VirusName | Should -Be 'Eicar'
            $d.Reason | Should -Match 'Eicar'
        }

        It 'Keeps $Junk of a rejecting scanner when another is unreachable and the list fails open, and defers the forward' {
            $d = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Kind Spam -Action Reject), (New-Verdict -Scanner clamd -Kind Unreachable))), (& $Policy FailOpen $false), $true)
            $d.Outcome | Should -Be 'DeferForward'
            $d.Keywords | Should -Be @('$Junk', 'ReplyAdmin-Unscanned')
        }

        It 'Marks spam that is also phishing with both keywords and does not forward it' {
            $d = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Kind Spam -Action AddHeader -Phishing $true))), $null, $true)
            $d.Keywords | Should -Be @('$Junk', '$Phishing')
            $d.Forward | Should -BeFalse
        }

        It 'Proceeds as routed when no scanner is configured' {
            $d = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @()), $null, $true)
            $d.Outcome | Should -Be 'Proceed'
            $d.Forward | Should -BeTrue
            $d.PrependHeaders | Should -BeNullOrEmpty
        }

        It 'Uses the careful defaults for a list without a policy: fail closed, no forward of suspected spam' {
            $default = $ScanPolicy::Default
            $default.OnScannerFailure | Should -Be 'FailClosed'
            $default.ForwardSuspectedSpam | Should -BeFalse
            $default.AddSpamHeaders | Should -BeFalse
            ($ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Kind Unreachable))), $null, $true)).Outcome | Should -Be 'Defer'
        }
    }

    Context 'When the list asks for spam headers' {
        It 'Prepends X-Spam-Flag and a folded X-Spam-Status with score, tests and scanner' {
            $symbols = @($ScanSymbol::new('GTUBE', 15, $null, $null), $ScanSymbol::new('MIME_GOOD', -0.1, $null, $null))
            $d = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Kind Spam -Action Reject -Score 15 -Symbols $symbols))), (& $Policy FailClosed $false $true), $false)
            $d.PrependHeaders | Should -Match '^X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=15\.00 required=15\.00 tests=GTUBE,MIME_GOOD\r\n\tscanner=rspamd\r\n$'
            $clean = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Score 1))), (& $Policy FailClosed $false $true), $false)
            $clean.PrependHeaders | Should -Match '^X-Spam-Flag: NO\r\nX-Spam-Status: No, score=1\.00'
        }

        It 'Never lets a symbol name break the header line' {
            $evil = $ScanSymbol::new("X`r`nBcc: victim@example.test", 1, $null, $null)
            $text = $ScanDecision::HeaderText((ConvertTo-ReplyAdminArray ScanVerdict @((New-Verdict -Kind Spam -Action AddHeader -Score 7 -Symbols @($evil)))))
            ($text -split "`r`n" | Where-Object { $_ -match '^Bcc:' }) | Should -BeNullOrEmpty
            ($text -split "`r`n" | Where-Object { $_ }) | ForEach-Object { $_ | Should -Match '^(X-Spam-Flag|X-Spam-Status|\t)' }
        }
    }
}

Describe 'ScanEnvelope' -Tag Unit {
    Context 'When the message came through our MTA and Dovecot LMTP' {
        BeforeAll {
            $headers = Read-TestHeaders (@(
                'Return-Path: <erika@example.org>'
                'Delivered-To: list@example.net'
                'Received: from mx.example.net (localhost [127.0.0.1]) by imap.example.net with LMTP id abc; Mon, 1 Jan 2024 10:00:02 +0000'
                'X-Spam-Flag: NO'
                'Received: from mail.example.org (mail.example.org [198.51.100.7])'
                "`tby mx.example.net (Postfix) with ESMTPS id 4ABC; Mon, 1 Jan 2024 10:00:01 +0000"
                'Received: from forged.example (forged.example [203.0.113.66]) by mail.example.org; Mon, 1 Jan 2024 09:00:00 +0000'
                'From: erika@example.org'
                'Subject: Re: news'
                '', 'Body') -join "`r`n")
            $envelope = $ScanEnvelope::FromHeaders($headers, [string[]] @('list@example.net'), $null, 'uid-7')
        }

        It 'Takes client IP, HELO and host name from the topmost Received line with a client that is not ours' {
            $envelope.ClientIp.ToString() | Should -Be '198.51.100.7'
            $envelope.Helo | Should -Be 'mail.example.org'
            $envelope.ClientHostname | Should -Be 'mail.example.org'
            $envelope.TrustedReceived | Should -Match '^from mail\.example\.org'
        }

        It 'Trusts the header fields down to that line and nothing below it' {
            $envelope.TrustedHeaderCount | Should -Be 5
        }

        It 'Takes the sender from Return-Path and the recipients and queue id as given' {
            $envelope.Sender | Should -Be 'erika@example.org'
            $envelope.Recipients | Should -Be @('list@example.net')
            $envelope.QueueId | Should -Be 'uid-7'
        }
    }

    Context 'When our own relays hand the message on' {
        It 'Skips the hops from a trusted relay' {
            $headers = Read-TestHeaders (@(
                'Received: from relay1.example.net (relay1.example.net [192.0.2.20]) by mx.example.net; Mon, 1 Jan 2024 10:00:02 +0000'
                'Received: from client.example.org (unknown [198.51.100.9]) by relay1.example.net; Mon, 1 Jan 2024 10:00:01 +0000'
                'From: a@example.org', '', 'x') -join "`r`n")
            $envelope = $ScanEnvelope::FromHeaders($headers, $null, [string[]] @('relay1.example.net'), $null)
            $envelope.ClientIp.ToString() | Should -Be '198.51.100.9'
            $envelope.ClientHostname | Should -BeNullOrEmpty
            $envelope.TrustedHeaderCount | Should -Be 2
        }

        It 'Trusts nothing in a message without Received lines' {
            $envelope = $ScanEnvelope::FromHeaders((Read-TestHeaders "From: a@example.org`r`n`r`nx"), $null, $null, $null)
            $envelope.ClientIp | Should -BeNullOrEmpty
            $envelope.TrustedHeaderCount | Should -Be 0
        }
    }
}

Describe 'HeaderTrustScanner' -Tag Unit {
    BeforeAll {
        $scanner = $HeaderTrustScanner::new('mx.example.net')
        function Invoke-HeaderScan([string[]] $Above, [string[]] $Below = @()) {
            $text = (@($Above) + @('Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net; Mon, 1 Jan 2024 10:00:01 +0000') + @($Below) + @('From: a@example.org', '', 'body')) -join "`r`n"
            $headers = Read-TestHeaders $text
            $envelope = $ScanEnvelope::FromHeaders($headers, $null, $null, $null)
            $stream = [IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($text))
            $scanner.ScanAsync($stream, $envelope, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
        }
    }

    It 'Reads <Scenario> as <Kind>' -TestCases @(
        @{ Scenario = 'X-Spam-Flag: YES above the trusted line'; Above = @('X-Spam-Flag: YES'); Below = @(); Kind = 'Spam'; Action = 'AddHeader' }
        @{ Scenario = 'SpamAssassin X-Spam-Status: No'; Above = @('X-Spam-Status: No, score=1.2 required=5.0 tests=DKIM_SIGNED,SPF_PASS autolearn=ham'); Below = @(); Kind = 'Clean'; Action = 'NoAction' }
        @{ Scenario = 'rspamd X-Spam-Action: reject'; Above = @('X-Spam-Action: reject'); Below = @(); Kind = 'Spam'; Action = 'Reject' }
        @{ Scenario = 'X-Virus-Status: Infected'; Above = @('X-Virus-Status: Infected (Win.Test.EICAR_HDB-1)'); Below = @(); Kind = 'Virus'; Action = 'NoAction' }
        @{ Scenario = 'DMARC fail in our Authentication-Results'; Above = @('Authentication-Results: mx.example.net; dkim=none; spf=softfail smtp.mailfrom=a@example.org; dmarc=fail header.from=example.org'); Below = @(); Kind = 'Spam'; Action = 'AddHeader' }
        @{ Scenario = 'a forged X-Spam-Flag below the trusted line'; Above = @(); Below = @('X-Spam-Flag: NO', 'X-Spam-Status: No, score=-100'); Kind = 'Error'; Action = 'NoAction' }
        @{ Scenario = 'Authentication-Results of another authserv-id'; Above = @('Authentication-Results: evil.example; dmarc=pass'); Below = @(); Kind = 'Error'; Action = 'NoAction' }
        @{ Scenario = 'a forged X-Virus-Status below the line with a clean verdict above'; Above = @('X-Spam-Flag: NO'); Below = @('X-Virus-Status: Infected (fake)'); Kind = 'Clean'; Action = 'NoAction' }
    ) {
        param($Scenario, $Above, $Below, $Kind, $Action)
        $verdict = Invoke-HeaderScan -Above $Above -Below $Below
        $verdict.Scanner | Should -Be 'mta-headers'
        $verdict.Kind | Should -Be $Kind
        $verdict.Action | Should -Be $Action
    }

    It 'Keeps the score and tests of X-Spam-Status as symbols' {
        $verdict = Invoke-HeaderScan -Above 'X-Spam-Status: Yes, score=9.5 required=5.0 tests=BAYES_99,URIBL_BLACK'
        $verdict.Score | Should -Be 9.5
        $verdict.RequiredScore | Should -Be 5
        $verdict.Symbols.Name | Should -Be @('BAYES_99', 'URIBL_BLACK')
    }
}

Describe 'Scanner answers' -Tag Unit {
    It 'Reads rspamd JSON with <Scenario> as <Kind>' -TestCases @(
        @{ Scenario = 'no action'; Json = '{"action":"no action","score":1.5,"required_score":15,"symbols":{"MIME_GOOD":{"score":-0.1}}}'; Kind = 'Clean'; Virus = $null }
        @{ Scenario = 'greylist'; Json = '{"action":"greylist","score":5.8,"required_score":15,"symbols":{"HFILTER_HOSTNAME_UNKNOWN":{"score":2.5}}}'; Kind = 'Clean'; Virus = $null }
        @{ Scenario = 'add header'; Json = '{"action":"add header","score":7,"required_score":15,"symbols":{}}'; Kind = 'Spam'; Virus = $null }
        @{ Scenario = 'the antivirus module'; Json = '{"action":"reject","score":0,"required_score":15,"symbols":{"CLAM_VIRUS":{"score":0,"options":["Eicar-Signature"]}}}'; Kind = 'Virus'; Virus = 'Eicar-Signature' }
        @{ Scenario = 'phishing'; Json = '{"action":"no action","score":3,"required_score":15,"symbols":{"PHISHING":{"score":3,"options":["bank.example->evil.example"]}}}'; Kind = 'Phishing'; Virus = $null }
    ) {
        param($Scenario, $Json, $Kind, $Virus)
        $verdict = $RspamdScanner::Parse($Json, $null, [TimeSpan]::Zero)
        $verdict.Kind | Should -Be $Kind
        $verdict.VirusName | Should -Be $Virus
        $verdict.RequiredScore | Should -Be 15
    }

    It 'Refuses rspamd JSON with an unknown action' {
        { $RspamdScanner::Parse('{"action":"delete everything"}', $null, [TimeSpan]::Zero) } | Should -Throw '*not one of rspamd*'
    }

    It 'Reads clamd answer <Answer> as <Kind>' -TestCases @(
        @{ Answer = "stream: OK`0"; Kind = 'Clean'; Virus = $null }
        @{ Answer = "stream: Win.Test.EICAR_HDB-1 FOUND`0"; Kind = 'Virus'; Virus = 'Win.Test.EICAR_HDB-1' }
        @{ Answer = "INSTREAM size limit exceeded. ERROR`0"; Kind = 'TooLarge'; Virus = $null }
        @{ Answer = "UNKNOWN COMMAND`0"; Kind = 'Error'; Virus = $null }
    ) {
        param($Answer, $Kind, $Virus)
        $verdict = $ClamdScanner::ParseAnswer($Answer, $null, [TimeSpan]::Zero)
        $verdict.Kind | Should -Be $Kind
        $verdict.VirusName | Should -Be $Virus
    }
}

Describe 'Set-ReplyScanner' -Tag Unit {
    BeforeEach { $config = New-TestConfigPath }

    It 'Stores the settings, reads them back with Get-ReplyScanner and returns them with -PassThru' {
        $out = Set-ReplyScanner -ConfigPath $config -RspamdUrl 'http://127.0.0.1:11333' -ClamdAddress 'unix:/run/clamav/clamd.ctl' -TrustMtaHeaders -AuthservId 'mx.example.net' -TrustedRelays 'relay1.example.net', '192.0.2.20' -TimeoutSeconds 20 -PassThru
        $out.RspamdUrl | Should -Be 'http://127.0.0.1:11333'
        $got = Get-ReplyScanner -ConfigPath $config
        $got.ClamdAddress | Should -Be 'unix:/run/clamav/clamd.ctl'
        $got.TrustMtaHeaders | Should -BeTrue
        $got.AuthservId | Should -Be 'mx.example.net'
        $got.TrustedRelays | Should -Be @('relay1.example.net', '192.0.2.20')
        $got.TimeoutSeconds | Should -Be 20
        Set-ReplyScanner -ConfigPath $config -RspamdUrl '' -TrustMtaHeaders:$false
        (Get-ReplyScanner -ConfigPath $config).RspamdUrl | Should -BeNullOrEmpty
        (Get-ReplyScanner -ConfigPath $config).TrustMtaHeaders | Should -BeFalse
    }

    It 'Changes nothing with -WhatIf' {
        Set-ReplyScanner -ConfigPath $config -ClamdAddress 'tcp://127.0.0.1:3310' -WhatIf
        Test-Path $config | Should -BeFalse
    }

    It 'Refuses <Scenario> with <ErrorId>' -TestCases @(
        @{ Scenario = 'plain HTTP to another host'; ErrorId = 'RspamdUrlInsecure'; Category = 'SecurityError'; Params = @{ RspamdUrl = 'http://192.0.2.5:11333' } }
        @{ Scenario = 'a URL with a password in it'; ErrorId = 'RspamdUrlInvalid'; Category = 'InvalidArgument'; Params = @{ RspamdUrl = 'http://user:secret@127.0.0.1:11333' } }
        @{ Scenario = 'an FTP URL'; ErrorId = 'RspamdUrlInvalid'; Category = 'InvalidArgument'; Params = @{ RspamdUrl = 'ftp://127.0.0.1/' } }
        @{ Scenario = 'a clamd address without a port'; ErrorId = 'ClamdAddressInvalid'; Category = 'InvalidArgument'; Params = @{ ClamdAddress = 'tcp://127.0.0.1' } }
        @{ Scenario = 'a relative socket path'; ErrorId = 'ClamdAddressInvalid'; Category = 'InvalidArgument'; Params = @{ ClamdAddress = 'unix:clamd.ctl' } }
        @{ Scenario = 'trusted headers without an authserv-id'; ErrorId = 'AuthservIdRequired'; Category = 'InvalidArgument'; Params = @{ TrustMtaHeaders = $true } }
        @{ Scenario = 'an authserv-id with a line break'; ErrorId = 'AuthservIdInvalid'; Category = 'InvalidArgument'; Params = @{ AuthservId = "mx`r`nX: y" } }
        @{ Scenario = 'a relay that is no host name'; ErrorId = 'TrustedRelayInvalid'; Category = 'InvalidArgument'; Params = @{ TrustedRelays = @('not a host') } }
    ) {
        param($Scenario, $ErrorId, $Category, $Params)
        $err = $null
        try { Set-ReplyScanner -ConfigPath $config @Params -ErrorAction Stop } catch { $err = @($_) }
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be "$ErrorId,ReplyAdmin.Commands.SetReplyScannerCommand"
        $err[0].CategoryInfo.Category | Should -Be $Category
        $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $err[0].ToString() | Should -Not -Match 'secret'
        Test-Path $config | Should -BeFalse
    }

    It 'Reports a scanner that is not configured' {
        { Get-ReplyScanner -ConfigPath $config -ErrorAction Stop } | Should -Throw -ErrorId 'ScannerNotConfigured,ReplyAdmin.Commands.GetReplyScannerCommand'
        { Test-ReplyScanner -ConfigPath $config -ErrorAction Stop } | Should -Throw -ErrorId 'ScannerNotConfigured,ReplyAdmin.Commands.TestReplyScannerCommand'
    }
}

Describe 'Set-ReplyListHandling scan policy' -Tag Unit {
    BeforeEach {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@example.test'
    }

    It 'Shows the careful defaults for a list without a policy' {
        $policy = (Get-ReplyListHandling -ConfigPath $config -Name news).ScanPolicy
        $policy.OnScannerFailure | Should -Be 'FailClosed'
        $policy.ForwardSuspectedSpam | Should -BeFalse
        (Get-Content $config -Raw | ConvertFrom-Json).lists[0].PSObject.Properties.Name | Should -Not -Contain 'scanPolicy'
    }

    It 'Stores the policy and keeps what it does not change' {
        Set-ReplyListHandling -ConfigPath $config -Name news -OnScannerFailure FailOpen -ForwardSuspectedSpam
        Set-ReplyListHandling -ConfigPath $config -Name news -AddSpamHeaders
        $policy = (Get-ReplyListHandling -ConfigPath $config -Name news).ScanPolicy
        $policy.OnScannerFailure | Should -Be 'FailOpen'
        $policy.ForwardSuspectedSpam | Should -BeTrue
        $policy.AddSpamHeaders | Should -BeTrue
        (Get-Content $config -Raw | ConvertFrom-Json).lists[0].scanPolicy.onScannerFailure | Should -Be 'FailOpen'
    }

    It 'Refuses an unknown failure mode in the file with ScanFailureModeInvalid' {
        $json = Get-Content $config -Raw | ConvertFrom-Json
        $json.lists[0] | Add-Member -NotePropertyName scanPolicy -NotePropertyValue ([pscustomobject]@{ onScannerFailure = 'Sometimes' })
        $json | ConvertTo-Json -Depth 5 | Set-Content $config
        { Get-ReplyListHandling -ConfigPath $config -ErrorAction Stop } | Should -Throw -ErrorId 'ConfigurationFileInvalid,ReplyAdmin.Commands.GetReplyListHandlingCommand'
    }
}

Describe 'Content scanners' -Tag Integration {
    BeforeAll {
        . "$PSScriptRoot/Support/MailServer.ps1"
        . "$PSScriptRoot/Support/Scanners.ps1"
        $scanners = Start-TestScanners
        $timeout = [TimeSpan]::FromSeconds(15)
        $clamd = $ClamdScanner::new($scanners.ClamdAddress, $timeout)
        $clamdUnix = $ClamdScanner::new($scanners.ClamdUnixAddress, $timeout)
        $rspamd = $RspamdScanner::new([uri] "$($scanners.RspamdUrl)/", $timeout)

        function New-TestReply([string] $Body, [byte[]] $Attachment, [string] $Name = 'file.bin') {
            $id = [guid]::NewGuid().ToString('N')
            $head = @(
                "Return-Path: <erika@example.org>"
                "Received: from mx.example.net (localhost [127.0.0.1]) by imap.example.net with LMTP id $($id.Substring(0, 8)); $([DateTimeOffset]::UtcNow.ToString('r'))"
                "Received: from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net (Postfix) with ESMTPS id $($id.Substring(0, 10)); $([DateTimeOffset]::UtcNow.ToString('r'))"
                'From: Erika Mustermann <erika@example.org>', 'To: news@example.net', 'Subject: Re: Our spring offer'
                "Date: $([DateTimeOffset]::UtcNow.ToString('r'))", "Message-ID: <$id@example.org>", 'MIME-Version: 1.0') -join "`r`n"
            if (-not $Attachment) { return [Text.Encoding]::ASCII.GetBytes("$head`r`nContent-Type: text/plain; charset=us-ascii`r`n`r`n$Body`r`n") }
            $b64 = [Convert]::ToBase64String($Attachment, 'InsertLineBreaks')
            [Text.Encoding]::ASCII.GetBytes("$head`r`nContent-Type: multipart/mixed; boundary=`"b$id`"`r`n`r`n--b$id`r`nContent-Type: text/plain`r`n`r`n$Body`r`n--b$id`r`nContent-Type: application/octet-stream; name=`"$Name`"`r`nContent-Disposition: attachment; filename=`"$Name`"`r`nContent-Transfer-Encoding: base64`r`n`r`n$b64`r`n--b$id--`r`n")
        }

        function Invoke-TestScan([object] $Scanner, [byte[]] $Message) {
            $stream = [IO.MemoryStream]::new($Message)
            $headers = $MessageHeaderReader::ReadHeaders($stream)
            $stream.Position = 0
            $envelope = $ScanEnvelope::FromHeaders($headers, [string[]] @('news@example.net'), $null, $null)
            $Scanner.ScanAsync($stream, $envelope, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
        }

        $ham = New-TestReply -Body "Hello,`r`n`r`nthank you for the offer. Could you send me the price list for next year?`r`n`r`nBest regards`r`nErika"
        $gtube = New-TestReply -Body ("Please read: XJS*C4JDBQADN1.NSBN3*2IDNEN*" + "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X")
        $eicar = New-TestReply -Body 'See the attachment.' -Attachment (Get-TestEicarBytes) -Name 'invoice.pdf'
        $marker = New-TestReply -Body 'See the attachment.' -Attachment ([Text.Encoding]::ASCII.GetBytes("header $TestVirusMarker trailer"))
    }

    AfterAll {
        foreach ($s in $rspamd) { if ($s) { $s.Dispose() } }
        if ($scanners) { Stop-TestScanners -Scanners $scanners }
    }

    Context 'When a normal reply arrives' {
        It 'Is Clean for clamd and rspamd, with rspamd scoring it as the receiving MTA would' {
            (Invoke-TestScan $clamd $ham).Kind | Should -Be 'Clean'
            $verdict = Invoke-TestScan $rspamd $ham
            $verdict.Kind | Should -Be 'Clean'
            $verdict.Action | Should -BeIn 'NoAction', 'Greylist'
            $verdict.Score | Should -BeLessThan 6
            $verdict.RequiredScore | Should -Be 15
            $verdict.Symbols.Count | Should -BeGreaterThan 0
            ($ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((Invoke-TestScan $clamd $ham), $verdict)), $null, $true)).Forward | Should -BeTrue
        }
    }

    Context 'When a reply carries GTUBE' {
        It 'Is Spam with rspamd action reject and becomes $Junk, not forwarded' {
            $verdict = Invoke-TestScan $rspamd $gtube
            $verdict.Kind | Should -Be 'Spam'
            $verdict.Action | Should -Be 'Reject'
            $verdict.Symbols.Name | Should -Contain 'GTUBE'
            $decision = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((Invoke-TestScan $clamd $gtube), $verdict)), $null, $true)
            $decision.Keywords | Should -Be @('$Junk')
            $decision.Store | Should -BeTrue
            $decision.Forward | Should -BeFalse
        }
    }

    Context 'When a reply has EICAR attached' {
        It 'Is a Virus for clamd over <Transport>' -TestCases @(@{ Transport = 'TCP' }, @{ Transport = 'a Unix socket' }) {
            param($Transport)
            $scanner = if ($Transport -eq 'TCP') { $clamd } else { $clamdUnix }
            $verdict = Invoke-TestScan $scanner $eicar
            $verdict.Kind | Should -Be 'Virus'
            $verdict.VirusName | Should -Be 'ReplyAdmin.Test.EICAR.UNOFFICIAL'
        }

        It 'Is a Virus for rspamd through its antivirus module asking the same clamd' {
            $verdict = Invoke-TestScan $rspamd $eicar
            $verdict.Kind | Should -Be 'Virus'
            $verdict.Symbols.Name | Should -Contain 'CLAM_VIRUS'
            $verdict.VirusName | Should -Match 'ReplyAdmin\.Test\.EICAR'
        }

        It 'Is quarantined: nothing stored whole, nothing forwarded, a notice that quotes no content' {
            $decision = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @((Invoke-TestScan $clamd $eicar), (Invoke-TestScan $rspamd $eicar))), $null, $true)
            $decision.Outcome | Should -Be 'Quarantine'
            $decision.Store | Should -BeFalse
            $decision.Forward | Should -BeFalse
            $headers = $MessageHeaderReader::ReadHeaders([IO.MemoryStream]::new($eicar))
            $list = (New-ReplyAdminObject ReplyList @{ Name = 'news'; Address = 'news@example.net' })
            $notice = $QuarantineNotice::Create($headers, (ConvertTo-ReplyAdminArray ReplyList @($list)), $decision, $eicar.Length, 'ReplyAdmin/Quarantine')
            $notice.Subject | Should -BeLike '`[ReplyAdmin`] Reply quarantined (virus): Re: Our spring offer'
            $notice.TextBody | Should -Match 'ReplyAdmin\.Test\.EICAR'
            $notice.TextBody | Should -Match 'ReplyAdmin/Quarantine'
            $notice.Attachments | Should -BeNullOrEmpty
            $notice.ToString() | Should -Not -Match 'EICAR-STANDARD'
        }

        It 'Finds the marker of the local .ndb database' {
            (Invoke-TestScan $clamd $marker).VirusName | Should -Be 'ReplyAdmin.Test.Marker.UNOFFICIAL'
        }
    }

    Context 'When a reply is larger than clamd accepts' {
        It 'Is TooLarge (13 MB against StreamMaxLength 12M), a defined verdict and not an error' {
            $big = New-TestReply -Body 'Big.' -Attachment ([byte[]]::new(10MB))
            $big.Length | Should -BeGreaterThan 13MB
            $verdict = Invoke-TestScan $clamd $big
            $verdict.Kind | Should -Be 'TooLarge'
            $verdict.Reason | Should -Match 'size limit'
            ($ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @($verdict)), $null, $true)).Outcome | Should -Be 'Reject'
        }
    }

    Context 'When Test-ReplyScanner checks the configured scanners' {
        BeforeAll {
            $config = New-TestConfigPath
            Set-ReplyScanner -ConfigPath $config -RspamdUrl $scanners.RspamdUrl -ClamdAddress $scanners.ClamdAddress
            $reports = Test-ReplyScanner -ConfigPath $config
        }

        It 'Reports both reachable, with version and test verdicts' {
            $reports | Should -HaveCount 2
            $c = $reports | Where-Object Scanner -eq 'clamd'
            $c.Succeeded | Should -BeTrue
            $c.Version | Should -Match '^ClamAV 1\.'
            $c.EicarVerdict.Kind | Should -Be 'Virus'
            $r = $reports | Where-Object Scanner -eq 'rspamd'
            $r.Succeeded | Should -BeTrue
            $r.Version | Should -Match 'rspamd'
            $r.GtubeVerdict.Action | Should -Be 'Reject'
            $r.CleanVerdict.Kind | Should -Be 'Clean'
        }

        It 'Shows a table with the verdicts' {
            $text = $reports | Out-String -Width 200
            $text | Should -Match 'Spam \(reject\)'
            $text | Should -Match 'Virus \(ReplyAdmin\.Test\.EICAR\.UNOFFICIAL\)'
        }

        It 'Returns $true with -Quiet' {
            Test-ReplyScanner -ConfigPath $config -Quiet | Should -BeExactly $true
        }
    }

    Context 'When clamd is killed' {
        BeforeAll {
            Stop-TestClamd -Scanners $scanners -Kill
        }
        AfterAll {
            Start-TestClamd -Scanners $scanners
        }

        It 'Gives an Unreachable verdict, not an exception, and the forward fails closed' {
            $verdict = Invoke-TestScan $clamd $ham
            $verdict.Kind | Should -Be 'Unreachable'
            $verdict.Reason | Should -Match 'cannot be reached'
            $decision = $ScanDecision::Decide((ConvertTo-ReplyAdminArray ScanVerdict @($verdict, (Invoke-TestScan $rspamd $ham))), $null, $true)
            $decision.Outcome | Should -Be 'Defer'
            $decision.Forward | Should -BeFalse
        }

        It 'Is reported by Test-ReplyScanner as ClamdUnreachable' {
            $report = Test-ReplyScanner -ClamdAddress $scanners.ClamdAddress -TimeoutSeconds 3 -ErrorAction SilentlyContinue -ErrorVariable failure
            $report.Reachable | Should -BeFalse
            $failure[0].FullyQualifiedErrorId | Should -Be 'ClamdUnreachable,ReplyAdmin.Commands.TestReplyScannerCommand'
            Test-ReplyScanner -ClamdAddress $scanners.ClamdAddress -TimeoutSeconds 3 -Quiet | Should -BeExactly $false
        }
    }
}
