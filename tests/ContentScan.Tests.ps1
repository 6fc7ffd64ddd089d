#Requires -Version 7.0
# The security scan in the run (issue 14): Invoke-ReplyProcessing against real Dovecot, Postfix, clamd and rspamd.
# What reaches the shared folder and the forward address is read back over IMAP, as staff and the team would see it.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    . "$PSScriptRoot/Support/Scanners.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'forward@example.test'
    $scanners = Start-TestScanners

    # A reply as the MTA delivered it (Received lines of a real hop), with an optional attachment.
    function New-ScanReply {
        param([string] $Directory, [string] $Name, [string] $Token, [string] $Body, [byte[]] $Attachment, [int] $PadTo = 0)
        $id = "$Name.$Token@customer.test"
        $head = @(
            'Return-Path: <erika@customer.test>'
            "Received: from mail.customer.test (mail.customer.test [192.0.2.10]) by mx.example.test (Postfix) with ESMTPS id 4A$Token; $([DateTimeOffset]::UtcNow.ToString('r'))"
            'From: Erika Mustermann <erika@customer.test>', 'To: news@example.test', "Subject: Re: Our offer ($Name)"
            "Date: $([DateTimeOffset]::UtcNow.ToString('r'))", "Message-ID: <$id>", 'MIME-Version: 1.0') -join "`r`n"
        $text = if (-not $Attachment) { "$head`r`nContent-Type: text/plain; charset=us-ascii`r`n`r`n$Body`r`n" } else {
            $b64 = [Convert]::ToBase64String($Attachment, 'InsertLineBreaks')
            "$head`r`nContent-Type: multipart/mixed; boundary=`"b1`"`r`n`r`n--b1`r`nContent-Type: text/plain`r`n`r`n$Body`r`n--b1`r`n" +
                "Content-Type: application/octet-stream; name=`"invoice.pdf`"`r`nContent-Disposition: attachment; filename=`"invoice.pdf`"`r`n" +
                "Content-Transfer-Encoding: base64`r`n`r`n$b64`r`n--b1--`r`n"
        }
        if ($PadTo -gt $text.Length) { $text += ((('x' * 76) + "`r`n") * [math]::Ceiling(($PadTo - $text.Length) / 78)) }
        $path = Join-Path $Directory "$Name.eml"
        [IO.File]::WriteAllText($path, $text)
        $path
    }

    # A forwarding list, a fresh reply folder, a directory source and the scanners given.
    function New-ScanScenario {
        param([string[]] $Use = @('clamd', 'rspamd'), [string] $OnScannerFailure = 'FailClosed')
        $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
        $folder = "Replies-$token"
        $config = New-TestReplyConfiguration -Server $server -ReplyFolder $folder
        $client = Connect-TestImap -Server $server -User 'replies@example.test'
        try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
        Add-ReplyList -ConfigPath $config -Name news -Address 'news@example.test' -Action ForwardAndStoreInImap -ForwardTo 'forward@example.test'
        Set-ReplyListHandling -ConfigPath $config -Name news -OnScannerFailure $OnScannerFailure
        $inbound = Join-Path (Split-Path $config) 'inbound'
        $null = New-Item -ItemType Directory -Path $inbound
        Set-ReplySource -ConfigPath $config -Kind Directory -Path $inbound
        $scan = @{}
        if ($Use -contains 'clamd') { $scan.ClamdAddress = $scanners.ClamdAddress }
        if ($Use -contains 'rspamd') { $scan.RspamdUrl = $scanners.RspamdUrl }
        Set-ReplyScanner -ConfigPath $config @scan
        [pscustomobject]@{ Token = $token; Folder = $folder; Config = $config; Inbound = $inbound }
    }

    function Get-Stored { param($Scenario) @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $Scenario.Folder) }

    # Forwards pass Postfix and LMTP: wait a moment for the expected number (and for none, a little longer).
    function Get-Forwarded {
        param($Scenario, [int] $Expected)
        $deadline = [DateTime]::UtcNow.AddSeconds($(if ($Expected -gt 0) { 20 } else { 3 }))
        do {
            $found = @(Get-TestImapMessage -Server $server -User 'forward@example.test' | Where-Object { $_.MessageId -like "*$($Scenario.Token)*" })
            if ($Expected -gt 0 -and $found.Count -ge $Expected) { break }
            Start-Sleep -Milliseconds 250
        } while ([DateTime]::UtcNow -lt $deadline)
        $found
    }

    $hamText = "Hello,`r`n`r`nthank you for the offer. Could you send me the price list for next year?`r`n`r`nBest regards`r`nErika"
    $gtubeText = 'Please read: XJS*C4JDBQADN1.NSBN3*2IDNEN*' + 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
}

AfterAll {
    if ($scanners) { Stop-TestScanners -Scanners $scanners }
    if ($server) { Stop-TestMailServer -Server $server }
}

Describe 'Invoke-ReplyProcessing with content scanners' -Tag Integration {
    Context 'When replies arrive clean, as spam and with a virus' {
        BeforeAll {
            $scenario = New-ScanScenario
            $null = New-ScanReply -Directory $scenario.Inbound -Name ham -Token $scenario.Token -Body $hamText
            $null = New-ScanReply -Directory $scenario.Inbound -Name gtube -Token $scenario.Token -Body $gtubeText
            $null = New-ScanReply -Directory $scenario.Inbound -Name eicar -Token $scenario.Token -Body 'See the attachment.' -Attachment (Get-TestEicarBytes)
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -InformationVariable info 6>$null)
            $stored = Get-Stored $scenario
            $forwarded = Get-Forwarded $scenario -Expected 1
            $byName = @{}
            foreach ($r in $results) { $byName[$r.SourceId -replace '\.eml$', ''] = $r }
        }

        It 'Stores and forwards a clean reply, with both scanners'' verdicts in its result' {
            $byName.ham.Outcome | Should -Be 'Done'
            $byName.ham.Disposition | Should -Be 'ForwardAndStore'
            $byName.ham.Scan | Should -HaveCount 2
            ($byName.ham.Scan -join "`n") | Should -Match 'clamd'
            ($byName.ham.Scan -join "`n") | Should -Match 'rspamd'
            $copy = $stored | Where-Object { $_.MessageId -like "ham.*" }
            $copy | Should -HaveCount 1
            $copy.Keywords | Should -Not -Contain '$Junk'
            @($forwarded | Where-Object { $_.MessageId -like 'ham.*' }) | Should -HaveCount 1
        }

        It 'Stores spam as $Junk and does not forward it' {
            $byName.gtube.Outcome | Should -Be 'Done'
            $byName.gtube.Disposition | Should -Be 'Store'
            $byName.gtube.Actions | Should -Contain ($byName.gtube.Actions | Where-Object { $_ -like 'Not forwarded:*' })
            $copy = $stored | Where-Object { $_.MessageId -like "gtube.*" }
            $copy | Should -HaveCount 1
            $copy.Keywords | Should -Contain '$Junk'
            @($forwarded | Where-Object { $_.MessageId -like 'gtube.*' }) | Should -BeNullOrEmpty
        }

        It 'Quarantines a virus at the source, tells staff with a notice and forwards nothing' {
            $byName.eicar.Disposition | Should -Be 'Quarantine'
            $byName.eicar.Reason | Should -Match 'virus'
            Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin/Quarantine/eicar.eml') | Should -BeTrue
            Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin/Quarantine/eicar.eml.reason.txt') | Should -BeTrue
            $notice = @($stored | Where-Object { $_.Keywords -contains 'ReplyAdmin-Quarantined' })
            $notice | Should -HaveCount 1
            $notice[0].Subject | Should -BeLike '*Reply quarantined (virus)*'
            # The notice quotes nothing of the original: no attachment, not the test file's text (only the signature's name).
            $text = [Text.Encoding]::ASCII.GetString($notice[0].Bytes)
            $text | Should -Not -Match 'EICAR-STANDARD-ANTIVIRUS'
            $text | Should -Not -Match 'invoice\.pdf'
            $text | Should -Match 'ReplyAdmin\.Test\.EICAR'
            @($stored | Where-Object { $_.MessageId -like 'eicar.*' }) | Should -BeNullOrEmpty
            @($forwarded | Where-Object { $_.MessageId -like 'eicar.*' }) | Should -BeNullOrEmpty
        }

        It 'Counts the quarantined reply in the summary' {
            @($info | ForEach-Object { "$_" }) -match '1 quarantined' | Should -HaveCount 1
        }
    }

    Context 'When clamd cannot be reached' {
        BeforeAll {
            $closed = New-ScanScenario -Use clamd
            $open = New-ScanScenario -Use clamd -OnScannerFailure FailOpen
            $null = New-ScanReply -Directory $closed.Inbound -Name closed -Token $closed.Token -Body $hamText
            $null = New-ScanReply -Directory $open.Inbound -Name open -Token $open.Token -Body $hamText
            Stop-TestClamd -Scanners $scanners
            $closedFirst = @(Invoke-ReplyProcessing -ConfigPath $closed.Config)
            $openFirst = @(Invoke-ReplyProcessing -ConfigPath $open.Config)
            $closedStoredFirst = Get-Stored $closed
            $openStoredFirst = Get-Stored $open
            $openForwardedFirst = Get-Forwarded $open -Expected 0
            $closedAtSource = Test-Path (Join-Path $closed.Inbound 'closed.eml')
            $openInFlight = @(Get-ChildItem (Join-Path $open.Inbound 'ReplyAdmin/InFlight') | ForEach-Object Name)
            Start-TestClamd -Scanners $scanners
            $closedSecond = @(Invoke-ReplyProcessing -ConfigPath $closed.Config)
            $openSecond = @(Invoke-ReplyProcessing -ConfigPath $open.Config)
        }

        It 'Leaves a reply of a list that fails closed untouched at the source, deferred, not failed' {
            $closedFirst | Should -HaveCount 1
            $closedFirst[0].Outcome | Should -Be 'Deferred'
            $closedFirst[0].Reason | Should -Match 'not scanned'
            $closedStoredFirst | Should -BeNullOrEmpty
            $closedAtSource | Should -BeTrue
        }

        It 'Stores a reply of a list that fails open, unscanned, and keeps its forward waiting at the source' {
            $openFirst[0].Outcome | Should -Be 'Deferred'
            $openStoredFirst | Should -HaveCount 1
            $openStoredFirst[0].Keywords | Should -Contain 'ReplyAdmin-Unscanned'
            $openForwardedFirst | Should -BeNullOrEmpty
            $openInFlight | Should -Be 'open.eml;ra=S' -Because 'it is stored and waits for its forward'
            $openStoredFirst[0].Keywords | Should -Not -Contain '$Junk'
        }

        It 'Completes both on the next run, once clamd is back, with one stored copy each' {
            $closedSecond[0].Outcome | Should -Be 'Done'
            $openSecond[0].Outcome | Should -Be 'Done'
            $openSecond[0].Actions | Should -Contain 'Stored by an earlier run'
            Get-Stored $closed | Should -HaveCount 1
            Get-Stored $open | Should -HaveCount 1
            Get-Forwarded $closed -Expected 1 | Should -HaveCount 1
            Get-Forwarded $open -Expected 1 | Should -HaveCount 1
        }
    }

    Context 'When a reply is larger than clamd scans' {
        It 'Rejects it with a notice when the list fails closed (nothing stored whole, nothing forwarded)' {
            $scenario = New-ScanScenario -Use clamd
            Set-ReplyMailbox -ConfigPath $scenario.Config -MaxMessageSize 20MB
            $null = New-ScanReply -Directory $scenario.Inbound -Name big -Token $scenario.Token -Body $hamText -PadTo 13MB
            $result = Invoke-ReplyProcessing -ConfigPath $scenario.Config
            $result.Disposition | Should -Be 'Reject'
            $result.Scan | Should -Match 'TooLarge'
            $stored = Get-Stored $scenario
            $stored | Should -HaveCount 1
            $stored[0].Subject | Should -BeLike '*not scannable*'
            $stored[0].Bytes.Length | Should -BeLessThan 64KB
            Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin/Rejected/big.eml') | Should -BeTrue
            Get-Forwarded $scenario -Expected 0 | Should -BeNullOrEmpty
        }
    }

    Context 'When the native runner scans with clamd and rspamd' {
        It 'Stores and forwards the clean reply, stores spam as $Junk and quarantines the virus, as a run in PowerShell does' {
            $scenario = New-ScanScenario
            $null = New-ScanReply -Directory $scenario.Inbound -Name ham -Token $scenario.Token -Body $hamText
            $null = New-ScanReply -Directory $scenario.Inbound -Name gtube -Token $scenario.Token -Body $gtubeText
            $null = New-ScanReply -Directory $scenario.Inbound -Name eicar -Token $scenario.Token -Body 'See the attachment.' -Attachment (Get-TestEicarBytes)
            $run = Invoke-ScheduledRun $scenario.Config -Program Native
            $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
            $run.Output | Should -HaveCount 1
            $run.Output[0] | Should -Match '^ReplyAdmin run \S+: 3 messages: 2 stored \(1 forwarded, 0 unrouted\), 0 excluded, 0 rejected, 1 quarantined, 0 failed'
            $stored = Get-Stored $scenario
            $stored | Should -HaveCount 3 -Because 'the clean reply, the spam and the notice about the virus'
            @($stored | Where-Object { $_.MessageId -like 'ham.*' }).Keywords | Should -Not -Contain '$Junk'
            @($stored | Where-Object { $_.MessageId -like 'gtube.*' }).Keywords | Should -Contain '$Junk'
            @($stored | Where-Object { $_.MessageId -like 'eicar.*' }) | Should -BeNullOrEmpty
            @($stored | Where-Object { $_.Keywords -contains 'ReplyAdmin-Quarantined' }).Subject | Should -BeLike '*Reply quarantined (virus)*'
            Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin/Quarantine/eicar.eml') | Should -BeTrue
            $forwarded = @(Get-Forwarded $scenario -Expected 1)
            $forwarded | Should -HaveCount 1
            $forwarded[0].MessageId | Should -BeLike 'ham.*'
        }
    }
}
