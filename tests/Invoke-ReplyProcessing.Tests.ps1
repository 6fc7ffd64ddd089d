#Requires -Version 7.0
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'forward@example.test', 'staff@example.test'
    $fixtures = Join-Path $PSScriptRoot 'fixtures/replies'

    # A copy of a fixture with a Message-ID unique to this test, and optional header changes.
    function New-TestReply {
        param([string] $Directory, [string] $Template, [string] $Token, [string] $Name = $Template,
            [hashtable] $Replace = @{}, [int] $PadTo = 0)
        $text = [IO.File]::ReadAllText((Join-Path $fixtures "$Template.eml"))
        $text = $text -replace 'Message-ID: <([^@>]+)@', "Message-ID: <`$1.$Token@"
        foreach ($key in $Replace.Keys) { $text = $text.Replace($key, $Replace[$key]) }
        $bytes = [Text.Encoding]::UTF8.GetBytes($text)
        if ($PadTo -gt 0) {
            $pad = $PadTo - $bytes.Length
            $line = ('x' * 76) + "`r`n"
            $text += ($line * [math]::Floor($pad / $line.Length)) + ('y' * ($pad % $line.Length))
            $bytes = [Text.Encoding]::UTF8.GetBytes($text)
        }
        $path = Join-Path $Directory "$Name.eml"
        [IO.File]::WriteAllBytes($path, $bytes)
        $path
    }

    # A configuration with a fresh reply folder and a directory source; returns what the tests need.
    function New-TestScenario {
        param([hashtable[]] $Lists = @(@{ Name = 'news'; Address = 'news@example.test' }))
        $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
        $folder = "Replies-$token"
        $config = New-TestReplyConfiguration -Server $server -ReplyFolder $folder
        $client = Connect-TestImap -Server $server -User 'replies@example.test'
        try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
        foreach ($list in $Lists) { Add-ReplyList -ConfigPath $config @list }
        $inbound = Join-Path (Split-Path $config) 'inbound'
        $null = New-Item -ItemType Directory -Path $inbound
        Set-ReplySource -ConfigPath $config -Kind Directory -Path $inbound
        [pscustomobject]@{ Token = $token; Folder = $folder; Config = $config; Inbound = $inbound }
    }

    function Get-StoredReply { param($Scenario) @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $Scenario.Folder) }

    # A watcher works on its own time: the stored replies once there are -Count of them, or after 30 s whatever is there.
    function Wait-StoredReply {
        param($Scenario, [int] $Count)
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (@(Get-StoredReply $Scenario).Count -lt $Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-StoredReply $Scenario
    }

    # Makes the scenario read from a fresh inbound IMAP folder (with Processed and Auto below it); returns its name.
    # -Create makes the folder now (a watcher waits in it before the first reply arrives).
    function Set-TestImapSource {
        param($Scenario, [switch] $Create)
        $folder = "In-$($Scenario.Token)"
        Set-ReplySource -ConfigPath $Scenario.Config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
            -Folder $folder -CredentialReference 'env:REPLYADMIN_TEST_INBOUND_PW' -CertificateThumbprint $server.CertificateThumbprint `
            -ProcessedFolder "$folder/Processed" -ArchiveFolder "$folder/Auto"
        if ($Create) {
            $client = Connect-TestImap -Server $server -User 'inbound@example.test'
            try { $null = Get-TestImapFolder -Client $client -Folder $folder -Create } finally { $client.Disconnect($true); $client.Dispose() }
        }
        $folder
    }

    # Forwards arrive through Postfix and LMTP a moment later: wait for the expected number.
    function Get-ForwardedReply {
        param($Scenario, [int] $Expected)
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        do {
            $found = @(Get-TestImapMessage -Server $server -User 'forward@example.test' | Where-Object { $_.MessageId -like "*$($Scenario.Token)*" })
            if ($found.Count -ge $Expected -and ($Expected -gt 0 -or [DateTime]::UtcNow -gt $deadline.AddSeconds(-18))) { break }
            Start-Sleep -Milliseconds 250
        } while ([DateTime]::UtcNow -lt $deadline)
        $found
    }

    function Test-BytesEqual([byte[]] $A, [byte[]] $B) { [Linq.Enumerable]::SequenceEqual($A, $B) }

    function Test-BytesEndWith([byte[]] $Whole, [byte[]] $Tail) {
        $Whole.Length -ge $Tail.Length -and [Linq.Enumerable]::SequenceEqual([byte[]]$Whole[($Whole.Length - $Tail.Length)..($Whole.Length - 1)], $Tail)
    }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
}

Describe 'Invoke-ReplyProcessing' -Tag Integration {
    Context 'When a list uses <Setting>' -ForEach @(
        @{ Setting = 'Store in IMAP (including auto-generated)'; Action = 'StoreInImap'; AutoReplies = 'Include'; ExpectStored = @('human', 'out-of-office', 'bounce'); ExpectForwarded = @() }
        @{ Setting = 'Store in IMAP (without auto-generated)'; Action = 'StoreInImap'; AutoReplies = 'Exclude'; ExpectStored = @('human'); ExpectForwarded = @() }
        @{ Setting = 'Forward and store (including auto-generated)'; Action = 'ForwardAndStoreInImap'; AutoReplies = 'Include'; ExpectStored = @('human', 'out-of-office', 'bounce'); ExpectForwarded = @('human', 'out-of-office', 'bounce') }
        @{ Setting = 'Forward and store (without auto-generated)'; Action = 'ForwardAndStoreInImap'; AutoReplies = 'Exclude'; ExpectStored = @('human'); ExpectForwarded = @('human') }
    ) {
        BeforeAll {
            $list = @{ Name = 'news'; Address = 'news@example.test'; Action = $Action; AutoReplies = $AutoReplies }
            if ($Action -eq 'ForwardAndStoreInImap') { $list.ForwardTo = 'forward@example.test' }
            $scenario = New-TestScenario -Lists $list
            $inputs = @{}
            foreach ($name in 'human', 'out-of-office', 'bounce') {
                $path = New-TestReply -Directory $scenario.Inbound -Template $name -Token $scenario.Token
                $inputs[$name] = [IO.File]::ReadAllBytes($path)
            }
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $stored = Get-StoredReply $scenario
            $forwarded = Get-ForwardedReply $scenario -Expected $ExpectForwarded.Count
        }

        It 'Reports one finished result per message' {
            $results | Should -HaveCount 3
            $results.Outcome | Sort-Object -Unique | Should -Be 'Done'
        }

        It 'Stores exactly the expected messages, byte for byte' {
            $stored | Should -HaveCount $ExpectStored.Count
            foreach ($name in $ExpectStored) {
                $copy = $stored | Where-Object { $_.MessageId -like "*-1.$($scenario.Token)@*" -and (Test-BytesEqual $_.Bytes $inputs[$name]) }
                $copy | Should -HaveCount 1 -Because "$name must be stored once, unchanged"
            }
        }

        It 'Marks stored messages with the list and class keywords and leaves them unread' {
            foreach ($message in $stored) {
                $message.Keywords | Should -Contain 'ReplyAdmin-List-news'
                ($message.Keywords -match '^ReplyAdmin-(Human|AutoReply|Bounce)$') | Should -HaveCount 1
                $message.Flags.ToString() | Should -Not -Match '\bSeen\b'
            }
        }

        It 'Classifies the out-of-office reply and the bounce' {
            ($results | Where-Object SourceId -EQ 'out-of-office.eml').Class | Should -Be 'AutoReply'
            ($results | Where-Object SourceId -EQ 'bounce.eml').Class | Should -Be 'Bounce'
            ($results | Where-Object SourceId -EQ 'human.eml').Class | Should -Be 'Human'
        }

        It 'Forwards exactly the expected messages, the original unchanged below the added headers' {
            $forwarded | Should -HaveCount $ExpectForwarded.Count
            foreach ($name in $ExpectForwarded) {
                # Postfix drops the old Return-Path (message_drop_headers), as every MTA should; the rest arrives unchanged.
                $original = [Text.Encoding]::UTF8.GetBytes(([Text.Encoding]::UTF8.GetString($inputs[$name]) -replace '^Return-Path: [^\r\n]*\r\n', ''))
                $copy = @($forwarded | Where-Object { Test-BytesEndWith $_.Bytes $original })
                $copy | Should -HaveCount 1 -Because "$name must be forwarded once"
                $head = [Text.Encoding]::UTF8.GetString($copy[0].Bytes, 0, $copy[0].Bytes.Length - $original.Length)
                $head | Should -Match '(?m)^X-ReplyAdmin-Forwarded: '
                $head | Should -Match '(?m)^Resent-From: bounces@example\.test'
                $head | Should -Match '(?m)^Resent-To: forward@example\.test'
            }
        }

        It 'Acknowledges every message at the source' {
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -BeNullOrEmpty
            Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/Processed') | Should -HaveCount 3
            Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight') | Should -BeNullOrEmpty
        }

        It 'Stores nothing twice when run again' {
            Invoke-ReplyProcessing -ConfigPath $scenario.Config | Should -BeNullOrEmpty
            Get-StoredReply $scenario | Should -HaveCount $ExpectStored.Count
        }
    }

    Context 'When a message is at or over the size limit' {
        BeforeAll {
            $scenario = New-TestScenario
            Set-ReplyMailbox -ConfigPath $scenario.Config -MaxMessageSize 20000
            $atLimit = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token -Name 'at-limit' -PadTo 20000
            $overLimit = New-TestReply -Directory $scenario.Inbound -Template human -Token "$($scenario.Token)x" -Name 'over-limit' -PadTo 20001 `
                -Replace @{ 'Subject: Re: Unser Frühjahrsangebot' = 'Subject: Re: Angebot mit grossem Anhang' }
            $inputAt = [IO.File]::ReadAllBytes($atLimit)
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $stored = Get-StoredReply $scenario
        }

        It 'Stores a message of exactly the limit' {
            (Get-Item (Join-Path $scenario.Inbound 'ReplyAdmin/Processed/at-limit.eml')).Length | Should -Be 20000
            ($results | Where-Object SourceId -EQ 'at-limit.eml').Disposition | Should -Be 'Store'
            @($stored | Where-Object { Test-BytesEqual $_.Bytes $inputAt }) | Should -HaveCount 1
        }

        It 'Rejects a message one byte over the limit and keeps it with the reason' {
            $result = $results | Where-Object SourceId -EQ 'over-limit.eml'
            $result.Disposition | Should -Be 'Reject'
            $result.Outcome | Should -Be 'Done'
            $kept = Join-Path $scenario.Inbound 'ReplyAdmin/Rejected/over-limit.eml'
            (Get-Item $kept).Length | Should -Be 20001
            Get-Content "$kept.reason.txt" | Should -Match '20,001 bytes is over the limit of 20,000 bytes'
        }

        It 'Tells staff with a notice in the reply folder' {
            $notice = @($stored | Where-Object { $_.Keywords -contains 'ReplyAdmin-TooLarge' })
            $notice | Should -HaveCount 1
            $notice[0].Subject | Should -BeLike '*Angebot mit grossem Anhang*'
            $text = [Text.Encoding]::UTF8.GetString($notice[0].Bytes)
            $text | Should -Match 'anna\.schmidt@customer\.test'
            $text | Should -Match '20,001 bytes'
            $text | Should -Match 'news <news@example\.test>'
            $notice[0].Keywords | Should -Contain 'ReplyAdmin-List-news'
        }

        It 'Stores neither the oversized message nor anything else' {
            $stored | Should -HaveCount 2
        }
    }

    Context 'When messages are addressed in unusual ways' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @(
                @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
                @{ Name = 'sales'; Address = 'sales@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'staff@example.test' }
            )
            $d = $scenario.Inbound; $t = $scenario.Token
            $null = New-TestReply $d human $t -Name 'two-lists' -Replace @{ 'Message-ID: <human-1.' = 'Message-ID: <two.'; "To: Newsletter <news@example.test>" = "To: news@example.test`r`nCc: Sales <sales@example.test>"; "Delivered-To: news@example.test`r`n" = '' }
            $null = New-TestReply $d human $t -Name 'sub-address' -Replace @{ 'Message-ID: <human-1.' = 'Message-ID: <sub.'; "To: Newsletter <news@example.test>" = 'To: news+spring2026@EXAMPLE.test'; "Delivered-To: news@example.test`r`n" = '' }
            $null = New-TestReply $d human $t -Name 'unknown-list' -Replace @{ 'Message-ID: <human-1.' = 'Message-ID: <unknown.'; "To: Newsletter <news@example.test>" = 'To: someone@example.test'; "Delivered-To: news@example.test`r`n" = '' }
            $null = New-TestReply $d human $t -Name 'no-message-id' -Replace @{ "Message-ID: <human-1.$t@customer.test>`r`n" = '' }
            $null = New-TestReply $d human $t -Name 'eight-bit-headers' -Replace @{ 'Message-ID: <human-1.' = 'Message-ID: <eightbit.'; 'From: Anna Schmidt' = 'From: Jürgen Größe' }
            $null = New-TestReply $d bounce $t -Name 'malformed-mime' -Replace @{ 'Message-ID: <bounce-1.' = 'Message-ID: <malformed.'; '--BOUNDARY-1--' = ''; 'Auto-Submitted: auto-replied' = 'X-Note: boundary never closed'; 'Return-Path: <>' = 'Return-Path: <x@mx.customer.test>' }
            [IO.File]::WriteAllBytes((Join-Path $d 'garbage.eml'), [byte[]](0, 1, 2, 255, 254, 0, 10, 13))
            $inputs = @{}
            Get-ChildItem $d -Filter *.eml | ForEach-Object { $inputs[$_.Name] = [IO.File]::ReadAllBytes($_.FullName) }
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue -ErrorVariable processingErrors)
            $stored = Get-StoredReply $scenario
            function Get-Result([string] $Name) { $results | Where-Object SourceId -EQ "$Name.eml" }
            function Get-Stored([string] $Name) { @($stored | Where-Object { Test-BytesEqual $_.Bytes $inputs["$Name.eml"] }) }
        }

        It 'Gives every message an outcome and reports no error' {
            $results | Should -HaveCount 7
            $results.Outcome | Should -Not -Contain 'Failed'
            $processingErrors | Should -BeNullOrEmpty
        }

        It 'Stores a message for two lists once, with both keywords, and forwards it to both lists' {
            (Get-Result 'two-lists').Lists | Should -Be @('news', 'sales')
            $copy = Get-Stored 'two-lists'
            $copy | Should -HaveCount 1
            $copy[0].Keywords | Should -Contain 'ReplyAdmin-List-news'
            $copy[0].Keywords | Should -Contain 'ReplyAdmin-List-sales'
            (Get-Result 'two-lists').ForwardedTo | Should -Be @('forward@example.test', 'staff@example.test')
        }

        It 'Maps a sub-address to its list' {
            (Get-Result 'sub-address').Lists | Should -Be 'news'
            (Get-Stored 'sub-address')[0].Keywords | Should -Contain 'ReplyAdmin-List-news'
        }

        It 'Stores a message for no configured list as unrouted, without forwarding' {
            (Get-Result 'unknown-list').Disposition | Should -Be 'StoreUnrouted'
            (Get-Stored 'unknown-list')[0].Keywords | Should -Contain 'ReplyAdmin-Unrouted'
            (Get-Result 'unknown-list').ForwardedTo | Should -BeNullOrEmpty
        }

        It 'Stores <Name> unchanged' -TestCases @(
            @{ Name = 'no-message-id' }, @{ Name = 'eight-bit-headers' }, @{ Name = 'malformed-mime' }
        ) {
            param($Name)
            (Get-Result $Name).Outcome | Should -Be 'Done'
            Get-Stored $Name | Should -HaveCount 1
        }

        It 'Rejects a file that is not e-mail at the source and stores it as it came for staff, with its own keyword' {
            (Get-Result 'garbage').Disposition | Should -Be 'Reject'
            Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin/Rejected/garbage.eml') | Should -BeTrue
            @($stored | Where-Object { $_.Keywords -contains 'ReplyAdmin-Unreadable' }) | Should -HaveCount 1
            @($stored | Where-Object { $_.Keywords -contains 'ReplyAdmin-TooLarge' }) | Should -HaveCount 0
        }
    }

    Context 'When a message has bare LF line ends' {
        It 'Stores it with CRLF line ends, as IMAP requires, and otherwise unchanged' {
            $scenario = New-TestScenario
            $path = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $lf = [Text.Encoding]::UTF8.GetString([IO.File]::ReadAllBytes($path)).Replace("`r`n", "`n")
            [IO.File]::WriteAllText($path, $lf + "mixed`r`nline ends`n")
            $expected = [Text.Encoding]::UTF8.GetBytes(($lf + "mixed`r`nline ends`n").Replace("`r`n", "`n").Replace("`n", "`r`n"))
            $result = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $result[0].Outcome | Should -Be 'Done'
            $stored = Get-StoredReply $scenario
            $stored | Should -HaveCount 1
            Test-BytesEqual $stored[0].Bytes $expected | Should -BeTrue
        }
    }

    Context 'When a saved file starts with an mbox From line' {
        It 'Stores the message without the envelope line' {
            $scenario = New-TestScenario
            $path = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $message = [IO.File]::ReadAllBytes($path)
            [IO.File]::WriteAllBytes($path, [Text.Encoding]::ASCII.GetBytes("From anna.schmidt@customer.test Tue Nov 24 09:12:44 2026`r`n") + $message)
            $result = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $result[0].Disposition | Should -Be 'Store'
            $result[0].Lists | Should -Be 'news'
            $stored = Get-StoredReply $scenario
            $stored | Should -HaveCount 1
            Test-BytesEqual $stored[0].Bytes $message | Should -BeTrue
        }
    }

    Context 'When the SMTP relay refuses a forward (5xx)' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'nobody-here@example.test' }
            $path = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $first = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue -ErrorVariable forwardErrors)
            $afterFirst = Get-StoredReply $scenario
            Set-ReplyListHandling -ConfigPath $scenario.Config -Name news -ForwardTo 'forward@example.test'
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
        }

        It 'Leaves the message at the source with the relay''s answer' {
            $first[0].Outcome | Should -Be 'Failed'
            $first[0].ErrorId | Should -Be 'SmtpForwardRejected'
            $first[0].Reason | Should -Match '550'
            $forwardErrors[0].FullyQualifiedErrorId | Should -Be 'SmtpForwardRejected,ReplyAdmin.Commands.InvokeReplyProcessingCommand'
            $forwardErrors[0].TargetObject | Should -Be 'nobody-here@example.test'
        }

        It 'Has stored the copy once already' {
            $afterFirst | Should -HaveCount 1
        }

        It 'Completes on the next run without storing a second copy' {
            $second[0].Outcome | Should -Be 'Done'
            $second[0].Actions | Should -Contain 'Stored by an earlier run'
            Get-StoredReply $scenario | Should -HaveCount 1
            Get-ForwardedReply $scenario -Expected 1 | Should -HaveCount 1
            Get-ChildItem (Join-Path $scenario.Inbound 'ReplyAdmin/InFlight') | Should -BeNullOrEmpty
        }
    }

    Context 'When the SMTP relay is down' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token "$($scenario.Token)b" -Name 'second'
            Stop-TestPostfix -Server $server
            try { $first = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue -ErrorVariable relayErrors) }
            finally { Start-TestPostfix -Server $server }
            $second = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
        }

        It 'Leaves every message to forward at the source with a clear reason' {
            $first.Outcome | Should -Be @('Failed', 'Failed')
            $first.ErrorId | Sort-Object -Unique | Should -Be 'SmtpRelayUnavailable'
            $relayErrors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        }

        It 'Forwards them on the next run with one stored copy each' {
            $second.Outcome | Should -Be @('Done', 'Done')
            Get-StoredReply $scenario | Should -HaveCount 2
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            do { $fwd = @(Get-TestImapMessage -Server $server -User 'forward@example.test' | Where-Object { $_.MessageId -like "*$($scenario.Token)*" }) }
            while ($fwd.Count -lt 2 -and [DateTime]::UtcNow -lt $deadline -and -not (Start-Sleep -Milliseconds 250))
            $fwd | Should -HaveCount 2
        }
    }

    Context 'When run with -WhatIf' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
            foreach ($name in 'human', 'out-of-office', 'bounce') { $null = New-TestReply -Directory $scenario.Inbound -Template $name -Token $scenario.Token }
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -WhatIf)
        }

        It 'Decides and reports every message' {
            $results | Should -HaveCount 3
            $results.Outcome | Sort-Object -Unique | Should -Be 'WhatIf'
            ($results | Where-Object SourceId -EQ 'human.eml').Disposition | Should -Be 'ForwardAndStore'
        }

        It 'Changes nothing on either server or at the source' {
            Get-StoredReply $scenario | Should -BeNullOrEmpty
            Get-ForwardedReply $scenario -Expected 0 | Should -BeNullOrEmpty
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 3
            Test-Path (Join-Path (Split-Path $scenario.Config) 'journal') | Should -BeFalse
            Test-Path (Join-Path (Split-Path $scenario.Config) 'locks') | Should -BeFalse
            Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin') | Should -BeFalse
        }
    }

    Context 'When run with -WhatIf against an IMAP source' {
        BeforeAll {
            $scenario = New-TestScenario
            $inboundFolder = Set-TestImapSource $scenario
            $path = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $path
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -WhatIf)
        }

        It 'Reports what it would do' {
            $results | Should -HaveCount 1
            $results[0].Outcome | Should -Be 'WhatIf'
        }

        It 'Creates no folder in the inbound mailbox and marks no message' {
            $client = Connect-TestImap -Server $server -User 'inbound@example.test'
            try {
                foreach ($folder in "$inboundFolder/Processed", "$inboundFolder/Auto", 'ReplyAdmin/Rejected', 'ReplyAdmin/DeadLetter') {
                    Get-TestImapFolder -Client $client -Folder $folder | Should -BeNullOrEmpty -Because "$folder must not be created by -WhatIf"
                }
            }
            finally { $client.Disconnect($true); $client.Dispose() }
            $waiting = @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder)
            $waiting | Should -HaveCount 1
            $waiting[0].Keywords | Should -BeNullOrEmpty
        }
    }

    Context 'When it reports the run''s summary' {
        It 'Writes the summary to the information stream, not to the output' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $output = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -InformationVariable info 6>$null)
            $output | Should -HaveCount 1
            $output[0].GetType().Name | Should -Be 'ProcessingResult'
            @($info | ForEach-Object { "$_" }) -match '^ReplyAdmin run \S+: 1 messages: 1 stored' | Should -HaveCount 1
        }
    }

    Context 'When the source is an IMAP mailbox' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; AutoReplies = 'Exclude' }
            $inboundFolder = Set-TestImapSource $scenario
            $paths = foreach ($name in 'human', 'out-of-office', 'bounce') { New-TestReply -Directory $scenario.Inbound -Template $name -Token $scenario.Token }
            Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $paths
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
        }

        It 'Stores the human reply and archives the auto-generated ones' {
            $stored = Get-StoredReply $scenario
            $stored | Should -HaveCount 1
            Test-BytesEqual $stored[0].Bytes ([IO.File]::ReadAllBytes($paths[0])) | Should -BeTrue
            @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder "$inboundFolder/Auto") | Should -HaveCount 2
        }

        It 'Keeps the class of each excluded auto-reply as a keyword where it was moved' {
            $auto = @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder "$inboundFolder/Auto")
            $auto | Should -HaveCount 2
            foreach ($message in $auto) { @($message.Keywords | Where-Object { $_ -in 'ReplyAdmin-AutoReply', 'ReplyAdmin-Bounce' }) | Should -HaveCount 1 }
        }

        It 'Moves the handled message to the processed folder with its state, leaving the inbound folder empty' {
            Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder | Should -BeNullOrEmpty
            $processed = @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder "$inboundFolder/Processed")
            $processed | Should -HaveCount 1
            $processed[0].Keywords | Should -Contain 'ReplyAdmin-Stored'
            $processed[0].Flags.ToString() | Should -Not -Match '\bSeen\b'
        }
    }

    Context 'When the inbound folder is in the reply folder''s own account (UID COPY on the server, issue 17)' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; AutoReplies = 'Exclude' }
            $inboundFolder = "Same-$($scenario.Token)"
            Set-ReplySource -ConfigPath $scenario.Config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'replies@example.test' `
                -Folder $inboundFolder -CredentialReference 'env:REPLYADMIN_TEST_REPLIES_PW' -CertificateThumbprint $server.CertificateThumbprint `
                -ProcessedFolder "$inboundFolder/Processed" -ArchiveFolder "$inboundFolder/Auto"
            # A reply of 1 MB: had it crossed the client, Dovecot's statistics would show it.
            $large = New-TestReply -Directory $scenario.Inbound -Template 'human' -Token $scenario.Token -Name 'large' -PadTo 1MB
            $small = New-TestReply -Directory $scenario.Inbound -Template 'human' -Token "$($scenario.Token)b" -Name 'small'
            $ooo = New-TestReply -Directory $scenario.Inbound -Template 'out-of-office' -Token $scenario.Token
            # An interrupted run's copy: claimed at the source, already in the reply folder; it must not be stored twice.
            $claimed = New-TestReply -Directory $scenario.Inbound -Template 'human' -Token "$($scenario.Token)c" -Name 'claimed'
            Add-TestImapMessage -Server $server -User 'replies@example.test' -Folder $inboundFolder -Path $large, $small, $ooo, $claimed
            Add-TestImapMessage -Server $server -User 'replies@example.test' -Folder $scenario.Folder -Path $claimed
            $client = Connect-TestImap -Server $server -User 'replies@example.test'
            try {
                $inbox = Get-TestImapFolder -Client $client -Folder $inboundFolder
                [void] $inbox.Open((Get-ReplyAdminType MailKit.FolderAccess)::ReadWrite)
                $uids = $inbox.Search((Get-ReplyAdminType MailKit.Search.SearchQuery)::All)
                # Someone read the small one in the inbound folder and tagged it: the copy must carry neither.
                $store = (Get-ReplyAdminType MailKit.StoreFlagsRequest)::new('Add', (Get-ReplyAdminType MailKit.MessageFlags)::Seen)
                $store.Keywords.Add('Inbound-Tag')
                $inbox.Store($uids[1], $store)
                $inbox.Store($uids[3], (Get-ReplyAdminType MailKit.StoreFlagsRequest)::new('Add', [string[]] @('ReplyAdmin-Claimed')))
            } finally { $client.Disconnect($true); $client.Dispose() }
            $logOffset = (Get-Item -LiteralPath $server.DovecotLogPath).Length
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $deadline = [DateTime]::UtcNow.AddSeconds(5)
            do {
                $log = [IO.File]::ReadAllText($server.DovecotLogPath).Substring($logOffset)
                $sent = @([regex]::Matches($log, 'imap\(replies@example\.test\).*Logged out .*body_bytes=(\d+)') | ForEach-Object { [long] $_.Groups[1].Value })
            } while ($sent.Count -lt 2 -and [DateTime]::UtcNow -lt $deadline -and -not (Start-Sleep -Milliseconds 200))
            $stored = Get-StoredReply $scenario
            $processed = @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder "$inboundFolder/Processed")
        }

        It 'Copies the replies on the server and reports it' {
            $copied = @($results | Where-Object { $_.Actions -match 'copied on the server' })
            $copied | Should -HaveCount 2
            ($results | Where-Object Disposition -EQ 'Exclude').Class | Should -Be 'AutoReply'
            @($results | Where-Object Outcome -NE 'Done') | Should -HaveCount 0
        }

        It 'Stores byte-identical copies: the reply folder and the processed originals read back alike' {
            $stored | Should -HaveCount 3
            $processed | Should -HaveCount 3
            foreach ($original in $processed) {
                $copy = @($stored | Where-Object { Test-BytesEqual $_.Bytes $original.Bytes })
                $copy | Should -HaveCount 1 -Because "$($original.MessageId) ($($original.Bytes.Length) bytes) is stored once, unchanged"
            }
            @($processed | Where-Object { $_.Bytes.Length -gt 1MB }) | Should -HaveCount 1
        }

        It 'Gives the copies the list keyword only: no source state, no flags of the inbound folder' {
            $interrupted = [IO.File]::ReadAllBytes($claimed)
            foreach ($copy in $stored | Where-Object { -not (Test-BytesEqual $_.Bytes $interrupted) }) {
                $copy.Keywords | Should -Contain 'ReplyAdmin-List-news'
                @($copy.Keywords | Where-Object { $_ -like 'ReplyAdmin-Claimed' -or $_ -like 'ReplyAdmin-Stored' -or $_ -eq 'Inbound-Tag' }) | Should -HaveCount 0
                $copy.Flags.ToString() | Should -Not -Match '\bSeen\b'
            }
        }

        It 'Sends no body through the client: the 1 MB reply never crosses the connection' {
            $sent | Should -Not -BeNullOrEmpty
            ($sent | Measure-Object -Sum).Sum | Should -BeLessThan 200KB
        }

        It 'Says so in Test-ReplyImapConnection -Target Source -Verbose' {
            $said = @(Test-ReplyImapConnection -ConfigPath $scenario.Config -Target Source -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $said | Should -Contain 'The reply folder is in the inbound account: replies stored unchanged are copied on the server.'
        }

        It 'Finds the copy an interrupted run left instead of copying it again' {
            $result = $results | Where-Object { $_.MessageId -like "*$($scenario.Token)c*" }
            $result.Actions -join '; ' | Should -Match 'interrupted run'
        }
    }

    Context 'When an IMAP source holds an out-of-office reply known by its subject and text only, with a large attachment' {
        BeforeAll {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; AutoReplies = 'Exclude' }
            $inboundFolder = Set-TestImapSource $scenario
            # No Auto-Submitted or other header evidence: only the subject and the text tell it, so the body must be read.
            $attachment = [Convert]::ToBase64String([byte[]]::new(2MB), 'InsertLineBreaks')
            $text = "From: Bernd Meier <bernd@customer.test>`r`nTo: news@example.test`r`nSubject: Abwesenheitsnotiz: Unser Angebot`r`n" +
                "Date: Tue, 24 Nov 2026 09:13:02 +0100`r`nMessage-ID: <ooo-large.$($scenario.Token)@customer.test>`r`nMIME-Version: 1.0`r`n" +
                "Content-Type: multipart/mixed; boundary=`"b1`"`r`n`r`n--b1`r`nContent-Type: text/plain; charset=utf-8`r`n`r`n" +
                "Ich bin bis zum 30.11. nicht im Buero und habe keinen Zugriff auf meine E-Mails.`r`n`r`n--b1`r`n" +
                "Content-Type: application/pdf; name=`"agenda.pdf`"`r`nContent-Transfer-Encoding: base64`r`n`r`n$attachment`r`n--b1--`r`n"
            $path = Join-Path $scenario.Inbound 'ooo-large.eml'
            [IO.File]::WriteAllText($path, $text)
            Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $path
            $logOffset = (Get-Item -LiteralPath $server.DovecotLogPath).Length
            $result = Invoke-ReplyProcessing -ConfigPath $scenario.Config
            # Dovecot logs what each session sent when it logs out; the run's connections are closed by now.
            $deadline = [DateTime]::UtcNow.AddSeconds(5)
            do {
                $log = [IO.File]::ReadAllText($server.DovecotLogPath).Substring($logOffset)
                $sent = @([regex]::Matches($log, 'imap\(inbound@example\.test\).*Logged out .*body_bytes=(\d+)') | ForEach-Object { [long] $_.Groups[1].Value })
            } while ($sent.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline -and -not (Start-Sleep -Milliseconds 200))
        }

        It 'Recognises it from the start of its text and filters it' {
            $result.Class | Should -Be 'AutoReply'
            $result.Disposition | Should -Be 'Exclude'
            @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder "$inboundFolder/Auto") | Should -HaveCount 1
        }

        It 'Downloads only the start of it, not the attachment' {
            $sent | Should -Not -BeNullOrEmpty
            ($sent | Measure-Object -Sum).Sum | Should -BeLessThan 32KB
        }
    }

    Context 'When several batches are handled at once (-ThrottleLimit <Limit>, <Kind> source)' -ForEach @(
        @{ Limit = 1; Kind = 'Directory' }
        @{ Limit = 3; Kind = 'Directory' }
        @{ Limit = 2; Kind = 'Imap' }
    ) {
        BeforeAll {
            # Four batches of 50 and a short one; every third message an out-of-office reply, filtered.
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; AutoReplies = 'Exclude' }
            $paths = foreach ($i in 1..230) {
                $path = New-TestReply -Directory $scenario.Inbound -Template $(if ($i % 3) { 'human' } else { 'out-of-office' }) -Token "$($scenario.Token)-$i" -Name ('{0:000}' -f $i)
                [IO.File]::SetLastWriteTimeUtc($path, [DateTime]::UtcNow.AddMinutes(-300).AddSeconds($i))
                $path
            }
            # Read before the run: a directory source moves its files away.
            $humans = @($paths | Where-Object { [int] (Split-Path -LeafBase $_) % 3 } | ForEach-Object { , [IO.File]::ReadAllBytes($_) })
            if ($Kind -eq 'Imap') {
                $inboundFolder = Set-TestImapSource $scenario
                Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $paths
            }
            $logOffset = (Get-Item -LiteralPath $server.DovecotLogPath).Length
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ThrottleLimit $Limit)
            $log = [IO.File]::ReadAllText($server.DovecotLogPath).Substring($logOffset)
            $logins = ([regex]::Matches($log, 'Login: user=<replies@example\.test>')).Count
            $sourceLogins = ([regex]::Matches($log, 'Login: user=<inbound@example\.test>')).Count
            $stored = @(Get-StoredReply $scenario)
        }

        It 'Handles every message once: the people stored byte for byte, the out-of-office replies filtered' {
            $results | Should -HaveCount 230
            $results.Outcome | Sort-Object -Unique | Should -Be 'Done'
            @($results | Where-Object Disposition -EQ 'Exclude') | Should -HaveCount (230 - $humans.Count)
            $stored | Should -HaveCount $humans.Count
            $expected = @{}
            foreach ($bytes in $humans) { $expected[[Convert]::ToBase64String($bytes)] = 0 }
            foreach ($message in $stored) { $expected[[Convert]::ToBase64String($message.Bytes)]++ }
            @($expected.Values | Where-Object { $_ -ne 1 }) | Should -BeNullOrEmpty
        }

        It 'Opens at most <Limit> connection(s) to the reply mailbox, more than one when it may' {
            $logins | Should -BeLessOrEqual $Limit
            # Whether two workers ever store at the same moment depends on timing when the source is IMAP: the
            # workers also meet at its headers, so one of the two mailboxes sees a second connection.
            if ($Limit -gt 1 -and $Kind -eq 'Directory') { $logins | Should -BeGreaterThan 1 }
            if ($Limit -gt 1 -and $Kind -eq 'Imap') { [Math]::Max($logins, $sourceLogins) | Should -BeGreaterThan 1 }
        }

        if ($Limit -eq 1) {
            It 'Stores strictly oldest first with one worker' {
                $order = $stored | Sort-Object Uid | ForEach-Object { [Convert]::ToBase64String($_.Bytes) }
                $order | Should -Be @($humans | ForEach-Object { [Convert]::ToBase64String($_) })
            }
        }
    }

    Context 'When messages are piped in as files' {
        It 'Stores each file and leaves the files where they are; a second run stores no duplicate' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $first = @(Get-ChildItem $scenario.Inbound -Filter *.eml | Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $second = @(Get-ChildItem $scenario.Inbound -Filter *.eml | Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $first[0].Actions[0] | Should -Match '^Stored as UID \d+$'
            $second[0].Actions[0] | Should -Match '^Stored by an interrupted run'
            Get-StoredReply $scenario | Should -HaveCount 1
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 1
        }
    }

    Context 'When another run holds the source' {
        It 'Refuses to run and changes nothing' {
            $scenario = New-TestScenario
            Invoke-ReplyProcessing -ConfigPath $scenario.Config | Out-Null   # creates the lock file
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $lock = Get-ChildItem (Join-Path (Split-Path $scenario.Config) 'locks') -Filter 'run-*.lock' | Select-Object -First 1
            $held = [IO.File]::Open($lock.FullName, 'Open', 'ReadWrite', 'None')
            try {
                { Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction Stop } |
                    Should -Throw -ErrorId 'ProcessingAlreadyRunning,ReplyAdmin.Commands.InvokeReplyProcessingCommand'
            }
            finally { $held.Dispose() }
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 1
            Get-StoredReply $scenario | Should -BeNullOrEmpty
        }
    }

    Context 'When the reply mailbox cannot be reached' {
        It 'Ends with a terminating error that names the server, leaving the messages at the source' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $free = Get-TestMailFreePort
            Set-ReplyMailbox -ConfigPath $scenario.Config -Port $free
            $err = { Invoke-ReplyProcessing -ConfigPath $scenario.Config -TimeoutSeconds 5 -ErrorAction Stop } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be 'ImapConnectFailed,ReplyAdmin.Commands.InvokeReplyProcessingCommand'
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$free"
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 1
        }
    }

    # The three programs a schedule starts keep one contract: the same arguments, lines and exit codes.
    Context 'When run as a scheduled <Entry>' -ForEach @(
        @{ Entry = 'task in PowerShell (Start-ReplyProcessing.ps1)'; Program = 'PowerShell' }
        @{ Entry = 'run without PowerShell (dotnet ReplyAdmin.Runner.dll)'; Program = 'DotNet' }
        @{ Entry = 'native run (ReplyAdmin.Runner compiled for this platform)'; Program = 'Native' }
    ) {
        It 'Exits 0 and prints one summary line when every message was handled' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $run = Invoke-ScheduledRun $scenario.Config -Program $Program
            $run.ExitCode | Should -Be 0
            $run.Output | Should -HaveCount 1
            $run.Output[0] | Should -Match '^ReplyAdmin run \S+: 1 messages: 1 stored'
        }

        It 'Exits 1 when a message failed and stays at the source' {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'nobody-here@example.test' }
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $run = Invoke-ScheduledRun $scenario.Config -Program $Program
            $run.ExitCode | Should -Be 1
            @($run.Output -match '^SmtpForwardRejected: ') | Should -HaveCount 1 -Because 'each failure is one ErrorId: message line'
            @($run.Output -match '^ReplyAdmin run \S+: 1 messages: .*1 failed') | Should -HaveCount 1
        }

        It 'Exits 2 when the reply mailbox cannot be reached' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            Set-ReplyMailbox -ConfigPath $scenario.Config -Port (Get-TestMailFreePort)
            $run = Invoke-ScheduledRun $scenario.Config -Program $Program
            $run.ExitCode | Should -Be 2
            @($run.Output -match '^ReplyAdmin run did not complete: ImapConnectFailed: ') | Should -HaveCount 1
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 1
        }

        It 'Passes -ThrottleLimit and -MaxAttempts on to the run' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            (Invoke-ScheduledRun $scenario.Config -Program $Program -Arguments '-ThrottleLimit', '1', '-MaxAttempts', '2').ExitCode | Should -Be 0
            Get-StoredReply $scenario | Should -HaveCount 1
            (Invoke-ScheduledRun $scenario.Config -Program $Program -Arguments '-ThrottleLimit', '99').ExitCode | Should -Be 2 -Because 'an invalid -ThrottleLimit is refused before the run'
        }

        It 'Exits 0 with one summary line of 0 messages when nothing waits' {
            $scenario = New-TestScenario
            $run = Invoke-ScheduledRun $scenario.Config -Program $Program
            $run.ExitCode | Should -Be 0
            $run.Output | Should -HaveCount 1
            $run.Output[0] | Should -Match '^ReplyAdmin run \S+: 0 messages:'
        }

        It 'Exits 3 when another run holds the source' {
            $scenario = New-TestScenario
            Invoke-ReplyProcessing -ConfigPath $scenario.Config | Out-Null
            $lock = Get-ChildItem (Join-Path (Split-Path $scenario.Config) 'locks') -Filter 'run-*.lock' | Select-Object -First 1
            $held = [IO.File]::Open($lock.FullName, 'Open', 'ReadWrite', 'None')
            try { (Invoke-ScheduledRun $scenario.Config -Program $Program).ExitCode | Should -Be 3 }
            finally { $held.Dispose() }
        }
    }

    Context 'When the <Program> runner meets what only it has to check' -ForEach @(@{ Program = 'DotNet' }, @{ Program = 'Native' }) {
        It 'Refuses an argument it does not know with exit code 2, naming it' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $run = Invoke-ScheduledRun $scenario.Config -Program $Program -Arguments '-ThrottleLimt', '2'
            $run.ExitCode | Should -Be 2
            $run.Output[0] | Should -BeLike "ScheduledRunArgumentInvalid: '-ThrottleLimt' is not a parameter*"
            Get-StoredReply $scenario | Should -BeNullOrEmpty
        }

        It 'Cannot read a secret: reference and says what to do, with exit code 2' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            Set-ReplyMailbox -ConfigPath $scenario.Config -CredentialReference 'secret:ReplyMailbox'
            $run = Invoke-ScheduledRun $scenario.Config -Program $Program
            $run.ExitCode | Should -Be 2
            @($run.Output -match '^ReplyAdmin run did not complete: CredentialStoreUnavailable: .*secret .ReplyMailbox.') | Should -HaveCount 1
            Get-ChildItem $scenario.Inbound -Filter *.eml | Should -HaveCount 1
        }
    }

    Context 'When watching the IMAP source with -Watch' {
        It 'Processes replies as they arrive, without waiting for the interval' {
            $scenario = New-TestScenario
            $inboundFolder = Set-TestImapSource $scenario -Create
            $pwsh = @(Get-PwshCommand)
            $command = "Import-Module '$ModulePath'; Invoke-ReplyProcessing -ConfigPath '$($scenario.Config)' -Watch -WatchInterval '00:10:00'"
            $watcher = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $command)) -PassThru `
                -RedirectStandardOutput (Join-Path (Split-Path $scenario.Config) 'watch.out') -RedirectStandardError (Join-Path (Split-Path $scenario.Config) 'watch.err')
            try {
                foreach ($round in 1..2) {
                    Start-Sleep -Seconds 2   # let the watcher reach IDLE
                    $path = New-TestReply -Directory $scenario.Inbound -Template human -Token "$($scenario.Token)r$round" -Name "round$round"
                    Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $path
                    Wait-StoredReply $scenario $round | Should -HaveCount $round -Because "reply $round must be processed while watching"
                }
                $watcher.HasExited | Should -BeFalse
            }
            finally { if (-not $watcher.HasExited) { $watcher.Kill($true) } }
        }
    }

    Context 'When running resident or stopped through <Entry>' -ForEach @(
        @{ Entry = 'Start-ReplyProcessing.ps1'; Program = 'PowerShell' }
        @{ Entry = 'dotnet ReplyAdmin.Runner.dll'; Program = 'DotNet' }
        @{ Entry = 'the native ReplyAdmin.Runner'; Program = 'Native' }
    ) {
        BeforeAll {
            # One run in a process of its own, as a scheduler or the service starts it, with -Arguments after -ConfigPath.
            # Its output goes to $Out, its errors to "$Out.err".
            function Start-ScheduledRun($Scenario, [string] $Out, [string[]] $Arguments) {
                $command = @(Get-ScheduledRunCommand -Program $Program)
                Start-Process -FilePath $command[0] -PassThru -RedirectStandardOutput $Out -RedirectStandardError "$Out.err" `
                    -ArgumentList (@($command | Select-Object -Skip 1) + @('-ConfigPath', $Scenario.Config) + $Arguments)
            }

            # The resident process as the service runs it, once its first run (which finds nothing) has said so: it then
            # waits in IDLE.
            function Start-ResidentWatcher($Scenario, [string] $Out) {
                $watcher = Start-ScheduledRun $Scenario $Out '-Watch', '-WatchIntervalSeconds', '600'
                $deadline = [DateTime]::UtcNow.AddSeconds(30)
                while (-not (Select-String -LiteralPath $Out -Pattern ': 0 messages:' -Quiet -ErrorAction Ignore) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
                $watcher
            }
        }

        It 'Stays running, handles each arriving reply and prints a summary line per run' {
            $scenario = New-TestScenario
            $inboundFolder = Set-TestImapSource $scenario -Create
            $out = Join-Path (Split-Path $scenario.Config) 'resident.out'
            $watcher = Start-ResidentWatcher $scenario $out
            try {
                foreach ($round in 1..2) {
                    $path = New-TestReply -Directory $scenario.Inbound -Template human -Token "$($scenario.Token)s$round" -Name "resident$round"
                    Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $path
                    Wait-StoredReply $scenario $round | Should -HaveCount $round -Because "reply $round must be handled by the resident process"
                }
                $watcher.HasExited | Should -BeFalse
                $deadline = [DateTime]::UtcNow.AddSeconds(10)
                while (@(Select-String -LiteralPath $out -Pattern ': 1 messages: 1 stored').Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
                $lines = @(Get-Content -LiteralPath $out)
                @($lines -match '^ReplyAdmin run \S+: 0 messages:') | Should -HaveCount 1 -Because 'the first run, before any reply arrived, finds nothing'
                @($lines -match '^ReplyAdmin run \S+: 1 messages: 1 stored') | Should -HaveCount 2
                if (-not $IsWindows) {
                    # What 'systemctl stop' sends to the unit Register-ReplyProcessingSchedule -Watch writes.
                    & kill -TERM $watcher.Id
                    $watcher.WaitForExit(30000) | Should -BeTrue -Because 'SIGTERM stops the watch as Ctrl+C does'
                    $watcher.ExitCode | Should -Be 0
                }
            }
            finally { if (-not $watcher.HasExited) { $watcher.Kill($true) } }
        }

        It 'Ends on SIGTERM in the middle of a run as on Ctrl+C: exit 0, the lease given back, the rest left for the next run' -Skip:$IsWindows {
            $scenario = New-TestScenario
            $inboundFolder = Set-TestImapSource $scenario -Create
            $paths = foreach ($i in 1..400) { New-TestReply -Directory $scenario.Inbound -Template human -Token "$($scenario.Token)t$i" -Name "term$i" }
            Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $paths
            $run = Start-ScheduledRun $scenario (Join-Path (Split-Path $scenario.Config) 'term.out') '-ThrottleLimit', '1'
            try {
                # Stopped once its first batch is journaled: the run holds the lease and has more to do.
                $journal = Join-Path (Split-Path $scenario.Config) 'journal'
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not $run.HasExited -and [DateTime]::UtcNow -lt $deadline -and @(Get-ChildItem $journal -Filter *.jsonl -ErrorAction Ignore | Get-Content).Count -lt 50) { Start-Sleep -Milliseconds 20 }
                # What kill, docker stop and the stop of a timer's service unit send.
                & kill -TERM $run.Id
                $run.WaitForExit(30000) | Should -BeTrue
                $run.ExitCode | Should -Be 0 -Because 'without a handler the process ends at once with 143 and leaves the lease to expire'
                (Get-ReplyLease -ConfigPath $scenario.Config).State | Should -Be 'Released'
                $storedByFirst = @(Get-StoredReply $scenario).Count
                $storedByFirst | Should -BeLessThan 400 -Because 'the run stopped part-way'
                $null = Invoke-ReplyProcessing -ConfigPath $scenario.Config
                $stored = @(Get-StoredReply $scenario)
                $stored | Should -HaveCount 400
                @($stored | ForEach-Object { $_.MessageId } | Sort-Object -Unique) | Should -HaveCount 400
            }
            finally { if (-not $run.HasExited) { $run.Kill($true) } }
        }
    }

    Context 'When watching a directory source with -Watch' {
        It 'Processes files as they arrive, without waiting for the interval' {
            $scenario = New-TestScenario
            $pwsh = @(Get-PwshCommand)
            $command = "Import-Module '$ModulePath'; Invoke-ReplyProcessing -ConfigPath '$($scenario.Config)' -Watch -WatchInterval '00:10:00'"
            $watcher = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $command)) -PassThru `
                -RedirectStandardOutput (Join-Path (Split-Path $scenario.Config) 'watch.out') -RedirectStandardError (Join-Path (Split-Path $scenario.Config) 'watch.err')
            try {
                Start-Sleep -Seconds 2   # the first run finds nothing; the watcher then looks every few seconds
                $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
                Wait-StoredReply $scenario 1 | Should -HaveCount 1
                $watcher.HasExited | Should -BeFalse
            }
            finally { if (-not $watcher.HasExited) { $watcher.Kill($true) } }
        }
    }

    Context 'When waiting for files at a Maildir source' {
        It 'Wakes as soon as a message is delivered, not at the next look 5 seconds later' {
            $root = Join-Path ([IO.Path]::GetTempPath()) ('replyadmin-wake-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
            foreach ($sub in 'new', 'cur', 'tmp') { $null = New-Item -ItemType Directory -Path (Join-Path $root $sub) -Force }
            $settings = (Get-ReplyAdminType 'ReplyAdmin.Engine.Configuration.InboundSourceSettings')::new()
            $settings.Kind = 'Maildir'
            $settings.Path = $root
            $provider = (Get-ReplyAdminType 'ReplyAdmin.Engine.Sources.SourceProviders')::For('Maildir')
            $waitMethod = (Get-ReplyAdminType 'ReplyAdmin.Engine.Sources.ISourceProvider').GetMethod('WaitForArrivalAsync')
            $wait = $waitMethod.Invoke($provider, @($settings, (Get-ReplyAdminType 'ReplyAdmin.Engine.Sources.SourceContext')::new(), [TimeSpan]::FromSeconds(30), [Threading.CancellationToken]::None))
            Start-Sleep -Milliseconds 1500   # its first look found nothing; without the file system the next comes at 5 s
            $wait.IsCompleted | Should -BeFalse
            $file = Join-Path $root 'tmp/1.wake'
            [IO.File]::WriteAllText($file, "From: a@customer.test`r`nSubject: x`r`n`r`nbody`r`n")
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Move-Item -LiteralPath $file -Destination (Join-Path $root 'new/1.wake')   # how an MTA delivers into a Maildir
            $wait.Wait(30000) | Should -BeTrue
            $clock.Stop()
            $wait.Result | Should -BeTrue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2.5 -Because 'the 5-second look alone would answer 3.5 s after the delivery'
        }
    }

    Context 'When it writes the journal' {
        It 'Records each message without secrets' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            Invoke-ReplyProcessing -ConfigPath $scenario.Config | Out-Null
            $journal = Get-ChildItem (Join-Path (Split-Path $scenario.Config) 'journal') -Filter '*.jsonl'
            $lines = @(Get-Content $journal.FullName)
            # A pending line just before the message is moved at the source (a kill there still leaves a line), then the final one.
            $lines | Should -HaveCount 2
            ($lines[0] | ConvertFrom-Json).pending | Should -BeTrue
            $entry = $lines[1] | ConvertFrom-Json
            $entry.messageId | Should -Be "human-1.$($scenario.Token)@customer.test"
            $entry.outcome | Should -Be 'Done'
            foreach ($password in $server.Users.Values) { $lines | Should -Not -Match ([regex]::Escape($password)) }
            if (-not $IsWindows) {
                [int] (Get-Item $journal.FullName).UnixFileMode | Should -Be 0x180   # 0600: customers' addresses and subjects
                [int] (Get-Item $journal.DirectoryName).UnixFileMode | Should -Be 0x1C0   # 0700
            }
        }

        It 'Answers what happened to the reply from a sender with Get-ReplyJournal' {
            $scenario = New-TestScenario
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $null = New-TestReply -Directory $scenario.Inbound -Template out-of-office -Token $scenario.Token
            $summary = Invoke-ReplyProcessing -ConfigPath $scenario.Config -Summary
            $summary.Total | Should -Be 2
            $summary.Stored | Should -Be 2
            $entry = @(Get-ReplyJournal -ConfigPath $scenario.Config -From 'bernd')
            $entry | Should -HaveCount 1
            $entry[0].Class | Should -Be 'AutoReply'
            $entry[0].RunId | Should -Be $summary.RunId
            @(Get-ReplyJournal -ConfigPath $scenario.Config -MessageId "<human-1.$($scenario.Token)@customer.test>") | Should -HaveCount 1
            Get-ReplyJournal -ConfigPath $scenario.Config -Outcome Failed | Should -BeNullOrEmpty
            Get-ReplyJournal -ConfigPath $scenario.Config -After (Get-Date).AddMinutes(5) | Should -BeNullOrEmpty
        }
    }

    Context 'When an IMAP source holds a message whose headers cannot be parsed (issue 16)' {
        BeforeAll {
            $scenario = New-TestScenario
            $inboundFolder = Set-TestImapSource $scenario
            Add-TestMailFolder -Server $server -User 'inbound@example.test' -Folder $inboundFolder
            # Some real messages start with a line of spaces: the first line is a continuation of no field.
            $original = "   `r`nFrom: Anna <anna@customer.test>`r`nTo: news@example.test`r`nSubject: spaces first $($scenario.Token)`r`n`r`nHello`r`n"
            $file = Join-Path $scenario.Inbound 'spaces.eml'
            [IO.File]::WriteAllText($file, $original)
            Import-TestMessage -Server $server -User 'inbound@example.test' -Folder $inboundFolder -Path $file
            Remove-Item $file
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue)
        }

        It 'Stores it as it came with keyword ReplyAdmin-Unreadable, as from a directory, instead of failing' {
            $results | Should -HaveCount 1
            $results[0].Outcome | Should -Be 'Done'
            $results[0].Disposition | Should -Be 'Reject'
            $stored = Get-StoredReply $scenario
            $stored | Should -HaveCount 1
            $stored[0].Keywords | Should -Contain 'ReplyAdmin-Unreadable'
            [Text.Encoding]::UTF8.GetString($stored[0].Bytes).EndsWith("`r`n`r`n$original") | Should -BeTrue
            @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder 'ReplyAdmin/Rejected' | Where-Object { [Text.Encoding]::UTF8.GetString($_.Bytes) -match $scenario.Token }) | Should -HaveCount 1
        }
    }

    Context 'When a run recovers a message with a 100 KB Message-ID (issue 16)' {
        BeforeAll {
            $scenario = New-TestScenario
            $inboundFolder = Set-TestImapSource $scenario
            $id = "long-$($scenario.Token)-" + ('x' * 100KB) + '@customer.test'
            $text = "From: Anna <anna@customer.test>`r`nTo: news@example.test`r`nSubject: long id $($scenario.Token)`r`nMessage-ID: <$id>`r`n`r`nHello`r`n"
            # As an interrupted run leaves it: claimed at the source, its copy already in the reply folder.
            $client = Connect-TestImap -Server $server -User 'inbound@example.test'
            try {
                $inbox = Get-TestImapFolder -Client $client -Folder $inboundFolder -Create
                $message = (Get-ReplyAdminType 'MimeKit.MimeMessage')::Load([IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($text)))
                [void] $inbox.Append((Get-ReplyAdminType 'MailKit.AppendRequest')::new($message, (Get-ReplyAdminType 'MailKit.MessageFlags')::None, [string[]] @('ReplyAdmin-Claimed')))
            }
            finally { $client.Disconnect($true); $client.Dispose() }
            $client = Connect-TestImap -Server $server -User 'replies@example.test'
            try {
                $replies = Get-TestImapFolder -Client $client -Folder $scenario.Folder
                $message = (Get-ReplyAdminType 'MimeKit.MimeMessage')::Load([IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($text)))
                [void] $replies.Append((Get-ReplyAdminType 'MailKit.AppendRequest')::new($message, (Get-ReplyAdminType 'MailKit.MessageFlags')::None, [string[]] @('ReplyAdmin-List-news', 'ReplyAdmin-Human')))
            }
            finally { $client.Disconnect($true); $client.Dispose() }
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue)
        }

        It 'Finds the stored copy by size and bytes, and stores no second one' {
            $results | Should -HaveCount 1
            $results[0].Outcome | Should -Be 'Done'
            ($results[0].Actions -join '; ') | Should -Match 'Stored by an interrupted run'
            Get-StoredReply $scenario | Should -HaveCount 1
        }
    }

    Context 'When the relay is configured for implicit TLS but speaks plaintext (issue 16)' {
        It 'Refuses it with SmtpPlaintextRefused, not a certificate error' {
            $scenario = New-TestScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
            Set-ReplySmtpRelay -ConfigPath $scenario.Config -Server '127.0.0.1' -Port $server.SmtpPort -TlsMode Implicit -CertificateThumbprint $server.CertificateThumbprint
            $null = New-TestReply -Directory $scenario.Inbound -Template human -Token $scenario.Token
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue)
            $results[0].Outcome | Should -Be 'Failed'
            $results[0].ErrorId | Should -Be 'SmtpPlaintextRefused'
            $results[0].Reason | Should -Match 'plaintext'
        }
    }
}
