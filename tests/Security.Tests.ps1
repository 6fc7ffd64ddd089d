#Requires -Version 7.0
# Secrets never leave the credential store, and values from configuration or from messages never reach an IMAP
# command or an SMTP envelope unquoted: tested against the real Dovecot and Postfix.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Resilience.ps1"
    . "$PSScriptRoot/Support/OAuthServer.ps1"
    $oauth = Start-TestOAuthServer -TokenLifetimeSeconds 20
    $server = Start-TestMailServer -OAuthIntrospectionUrl $oauth.Introspection

    # Everything a record says: its text, its error record's text and exception chain, its details, and as JSON.
    function ConvertTo-SecurityText($Record) {
        $parts = [Collections.Generic.List[string]]::new()
        if ($Record -is [Management.Automation.ErrorRecord]) {
            $parts.Add($Record.ToString()); $parts.Add([string] $Record.TargetObject); $parts.Add($Record.FullyQualifiedErrorId)
            if ($Record.ErrorDetails) { $parts.Add($Record.ErrorDetails.Message); $parts.Add($Record.ErrorDetails.RecommendedAction) }
            for ($e = $Record.Exception; $e; $e = $e.InnerException) { $parts.Add($e.ToString()); $parts.Add($e.Message) }
        }
        elseif ($Record -is [Management.Automation.InformationalRecord]) { $parts.Add($Record.Message) }
        elseif ($Record -is [Management.Automation.InformationRecord]) { $parts.Add([string] $Record.MessageData) }
        else {
            $parts.Add(($Record | Out-String))
            try { $parts.Add(($Record | ConvertTo-Json -Depth 5 -WarningAction SilentlyContinue)) } catch { $parts.Add("(not serializable: $_)") }
        }
        $parts -join "`n"
    }

    # The texts that must never appear: every password, and the SASL PLAIN form a protocol log would show.
    function Get-SecurityNeedle([hashtable] $Passwords) {
        foreach ($user in $Passwords.Keys) {
            $Passwords[$user]
            [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("`0$user`0$($Passwords[$user])"))
        }
    }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    Stop-TestOAuthServer $oauth
    if (Get-Command Remove-ResilienceScenario -ErrorAction SilentlyContinue) { Remove-ResilienceScenario }
}

Describe 'Secrets in everything the module writes' -Tag Integration {
    BeforeAll {
        $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
        Set-ResilienceImapSource $scenario
        Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(
            (New-ResilienceReply -Token $scenario.Token -Seq 1), (New-ResilienceReply -Token $scenario.Token -Seq 2 -NoMessageId))
        $wrong = 'Wr0ng-' + (New-TestMailRandomString -Length 20)
        $transcript = Join-Path (Split-Path $scenario.Config) 'transcript.txt'
        $records = [Collections.Generic.List[object]]::new()
        $null = Start-Transcript -Path $transcript -Force
        try {
            # A full run with everything on: verbose, debug, progress, results and the summary object.
            foreach ($r in (Invoke-ReplyProcessing -ConfigPath $scenario.Config -Verbose -Debug *>&1)) { $records.Add($r) }
            foreach ($r in (Invoke-ReplyProcessing -ConfigPath $scenario.Config -Summary -Verbose -Debug *>&1)) { $records.Add($r) }
            # A forward the relay refuses (per-message error records).
            Set-ReplyListHandling -ConfigPath $scenario.Config -Name news -ForwardTo 'nobody-here@example.test'
            Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(, (New-ResilienceReply -Token $scenario.Token -Seq 3))
            foreach ($r in (Invoke-ReplyProcessing -ConfigPath $scenario.Config -Verbose -Debug -ErrorAction Continue *>&1)) { $records.Add($r) }
            # A login refused with a password given on the command line (terminating error).
            $credential = [pscredential]::new('replies@example.test', (ConvertTo-SecureString $wrong -AsPlainText -Force))
            try { Invoke-ReplyProcessing -ConfigPath $scenario.Config -Credential $credential -Verbose -Debug -ErrorAction Stop *>&1 | ForEach-Object { $records.Add($_) } }
            catch { $records.Add($_) }
            # What an administrator looks at afterwards.
            foreach ($r in @(Get-ReplyJournal -ConfigPath $scenario.Config -ErrorAction SilentlyContinue) + @(Get-ReplyMailbox -ConfigPath $scenario.Config) +
                @(Get-ReplySource -ConfigPath $scenario.Config) + @(Get-ReplySmtpRelay -ConfigPath $scenario.Config) + @(Get-ReplyList -ConfigPath $scenario.Config)) { $records.Add($r) }
        }
        finally { $null = Stop-Transcript }
        $streamText = ($records | ForEach-Object { ConvertTo-SecurityText $_ }) -join "`n"
        $files = @(Get-ChildItem (Split-Path $scenario.Config) -Recurse -File)
        $fileText = ($files | ForEach-Object { [IO.File]::ReadAllText($_.FullName) }) -join "`n"
        $passwords = @{} + $server.Users
        $passwords['replies@example.test (wrong)'] = $wrong
        $needles = @(Get-SecurityNeedle $passwords)
    }

    It 'Has captured output of every kind' {
        @($records | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Count | Should -BeGreaterThan 5
        @($records | Where-Object { $_ -is [Management.Automation.ErrorRecord] }).Count | Should -BeGreaterOrEqual 2
        @($records | Where-Object { $_.GetType().FullName -eq 'ReplyAdmin.Engine.Processing.ProcessingResult' }).Count | Should -BeGreaterOrEqual 3
        $files.Name | Should -Contain 'config.json'
        @($files | Where-Object Name -Like 'journal-*.jsonl') | Should -Not -BeNullOrEmpty
    }

    It 'Writes no password to the verbose, debug, warning, error and output streams or the host' {
        foreach ($needle in $needles) {
            $streamText.Contains($needle) | Should -BeFalse -Because 'no stream may carry a password'
            [IO.File]::ReadAllText($transcript).Contains($needle) | Should -BeFalse -Because 'the host output (transcript) may not carry a password'
        }
    }

    It 'Writes no password to any file: configuration, journal, locks' {
        foreach ($needle in $needles) { $fileText.Contains($needle) | Should -BeFalse }
    }
}

Describe 'OAuth2 tokens in everything the module writes' -Tag Integration {
    BeforeAll {
        $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
        Set-ResilienceImapSource $scenario
        $clientSecret = 'Sec-' + (New-TestMailRandomString -Length 28)
        $env:REPLYADMIN_TEST_SCAN_SECRET = $clientSecret
        foreach ($client in 'scan-store', 'scan-inbound', 'scan-smtp') { $oauth.Server.AddSecretClient($client, $clientSecret, $(if ($client -eq 'scan-inbound') { 'inbound@example.test' } else { 'replies@example.test' })) }
        $oauth.Server.AddSecretClient('scan-public', 'unused', 'replies@example.test')
        $common = @{ ConfigPath = $scenario.Config; Authentication = 'OAuth2'; Authority = $oauth.Authority; AuthorityCertificateThumbprint = $oauth.Thumbprint; Scope = 'api://mail/.default' }
        Set-ReplyMailbox @common -TokenSource MicrosoftDeviceCode -ClientId 'scan-public'
        Set-ReplySource @common -TokenSource MicrosoftClientCredentials -ClientId 'scan-inbound' -ClientSecretReference 'env:REPLYADMIN_TEST_SCAN_SECRET'
        Set-ReplySmtpRelay @common -UserName 'replies@example.test' -TokenSource MicrosoftClientCredentials -ClientId 'scan-smtp' -ClientSecretReference 'env:REPLYADMIN_TEST_SCAN_SECRET'
        Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @((New-ResilienceReply -Token $scenario.Token -Seq 1), (New-ResilienceReply -Token $scenario.Token -Seq 2))
        $transcript = Join-Path (Split-Path $scenario.Config) 'transcript.txt'
        $records = [Collections.Generic.List[object]]::new()
        $null = Start-Transcript -Path $transcript -Force
        try {
            foreach ($r in (Connect-ReplyAccount -ConfigPath $scenario.Config -Verbose *>&1)) { $records.Add($r) }
            foreach ($r in (Test-ReplyImapConnection -ConfigPath $scenario.Config -Verbose *>&1)) { $records.Add($r) }
            foreach ($r in (Test-ReplyImapConnection -ConfigPath $scenario.Config -Target Source -Verbose *>&1)) { $records.Add($r) }
            foreach ($r in (Invoke-ReplyProcessing -ConfigPath $scenario.Config -Verbose -Debug *>&1)) { $records.Add($r) }
            # Refused: a revoked relay app (per-message errors) and a revoked sign-in (terminating error).
            $oauth.Server.Revoke('scan-smtp')
            Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(, (New-ResilienceReply -Token $scenario.Token -Seq 3))
            foreach ($r in (Invoke-ReplyProcessing -ConfigPath $scenario.Config -Verbose -Debug -ErrorAction Continue *>&1)) { $records.Add($r) }
            $oauth.Server.RevokeRefreshTokens()
            Start-Sleep -Seconds 1
            try { Invoke-ReplyProcessing -ConfigPath $scenario.Config -Verbose -Debug -ErrorAction Stop *>&1 | ForEach-Object { $records.Add($_) } } catch { $records.Add($_) }
            foreach ($r in (Test-ReplyImapConnection -ConfigPath $scenario.Config -Verbose -ErrorAction Continue *>&1)) { $records.Add($r) }
            foreach ($r in @(Get-ReplyJournal -ConfigPath $scenario.Config -ErrorAction SilentlyContinue) + @(Get-ReplyMailbox -ConfigPath $scenario.Config) +
                @(Get-ReplySource -ConfigPath $scenario.Config) + @(Get-ReplySmtpRelay -ConfigPath $scenario.Config)) { $records.Add($r) }
        }
        finally { $null = Stop-Transcript }
        $streamText = ($records | ForEach-Object { ConvertTo-SecurityText $_ }) -join "`n"
        $cache = (Get-ReplyMailbox -ConfigPath $scenario.Config).Authentication.TokenCachePath
        $files = @(Get-ChildItem (Split-Path $scenario.Config) -Recurse -File | Where-Object FullName -ne $cache)
        $fileText = ($files | ForEach-Object { [IO.File]::ReadAllText($_.FullName) }) -join "`n"
        # Every token the authority issued, the refresh tokens, the client secret, and the SASL forms a protocol log would show.
        $needles = @($oauth.Server.IssuedTokens) + @($oauth.Server.IssuedRefreshTokens) + @($clientSecret)
        $needles += foreach ($token in $oauth.Server.IssuedTokens) {
            foreach ($user in 'replies@example.test', 'inbound@example.test') {
                [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes("user=$user`u{1}auth=Bearer $token`u{1}`u{1}"))
            }
        }
    }

    It 'Has captured logins with tokens, refusals and output of every kind' {
        @($oauth.Server.IssuedTokens).Count | Should -BeGreaterOrEqual 3
        @($records | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Count | Should -BeGreaterThan 5
        @($records | Where-Object { $_ -is [Management.Automation.ErrorRecord] -and "$($_.FullyQualifiedErrorId)$($_.Exception.Message)" -match 'OAuthGrantRevoked|refused to issue' }) | Should -Not -BeNullOrEmpty
        @($records | Where-Object { $_.GetType().FullName -eq 'ReplyAdmin.Engine.Processing.ProcessingResult' }).Count | Should -BeGreaterOrEqual 3
    }

    It 'Writes no token, refresh token or client secret to any stream or the host' {
        foreach ($needle in $needles) {
            $streamText.Contains($needle) | Should -BeFalse -Because 'no stream may carry a token'
            [IO.File]::ReadAllText($transcript).Contains($needle) | Should -BeFalse -Because 'the host output may not carry a token'
        }
    }

    It 'Writes no token to any file but the token cache, which only its owner can read' {
        foreach ($needle in $needles) { $fileText.Contains($needle) | Should -BeFalse }
        (& stat -c '%a' $cache) | Should -Be '600'
    }
}

Describe 'Configuration against header and IMAP injection' -Tag Integration {
    BeforeAll { $config = New-TestConfigPath }

    It 'Refuses the list name <Name>' -TestCases @(
        @{ Name = "news`r`nA1 DELETE INBOX" }, @{ Name = "news`nX" }, @{ Name = "news`0" }, @{ Name = 'news)' }, @{ Name = 'news(' }
        @{ Name = 'news{5}' }, @{ Name = 'news"' }, @{ Name = 'news\' }, @{ Name = 'news%' }, @{ Name = 'news*' }, @{ Name = 'news]' }
        @{ Name = 'Grüße' }, @{ Name = ' news' }
    ) {
        { Add-ReplyList -ConfigPath $config -Name $Name -Address 'x@example.test' -ErrorAction Stop } | Should -Throw -ErrorId 'ListNameInvalid,ReplyAdmin.Commands.AddReplyListCommand'
    }

    It 'Refuses the forward address <Shown>' -TestCases @(
        @{ Shown = 'with CR/LF and an SMTP command'; Address = "team@example.test`r`nRCPT TO:<evil@example.test>" }
        @{ Shown = 'with a bare LF'; Address = "team@example.test`nBcc: evil@example.test" }
        @{ Shown = 'with two addresses'; Address = 'team@example.test, evil@example.test' }
        @{ Shown = 'with angle brackets'; Address = '<team@example.test>' }
        @{ Shown = 'with a closing bracket and parameters'; Address = 'team@example.test> NOTIFY=NEVER' }
        @{ Shown = 'with NUL'; Address = "team@example.test`0" }
    ) {
        { Add-ReplyList -ConfigPath $config -Name 'x' -Address 'x@example.test' -Action ForwardAndStoreInImap -ForwardTo $Address -ErrorAction Stop } |
            Should -Throw -ErrorId 'ForwardAddressInvalid,ReplyAdmin.Commands.AddReplyListCommand'
    }

    It 'Refuses a forward address with CR/LF when handling is changed later' {
        Add-ReplyList -ConfigPath $config -Name 'later' -Address 'later@example.test'
        { Set-ReplyListHandling -ConfigPath $config -Name 'later' -Action ForwardAndStoreInImap -ForwardTo "a@example.test`r`nDATA" -ErrorAction Stop } |
            Should -Throw -ErrorId 'ForwardAddressInvalid,*'
    }

    It 'Refuses the folder <Shown> for the reply mailbox and the source' -TestCases @(
        @{ Shown = 'with a bare LF'; Folder = "Replies`nA1 DELETE INBOX" }
        @{ Shown = 'with a quote'; Folder = 'Replies" (\Deleted' }
        @{ Shown = 'with a backslash'; Folder = 'Replies\x' }
        @{ Shown = 'with NUL'; Folder = "Replies`0" }
        @{ Shown = 'with %'; Folder = 'Rep%' }
        @{ Shown = 'with a leading space'; Folder = ' Replies' }
    ) {
        { Set-ReplyMailbox -ConfigPath $config -Server 'h.example.test' -UserName 'u' -Folder $Folder -ErrorAction Stop } | Should -Throw -ErrorId 'FolderNameInvalid,*'
        { Set-ReplySource -ConfigPath $config -Kind Imap -Server 'h.example.test' -UserName 'u' -Folder 'INBOX' -ProcessedFolder $Folder -ErrorAction Stop } |
            Should -Throw -ErrorId 'FolderNameInvalid,*'
    }

    It 'Refuses a user name with CR/LF' {
        { Set-ReplyMailbox -ConfigPath $config -Server 'h.example.test' -UserName "u`r`nA1 LOGOUT" -ErrorAction Stop } | Should -Throw -ErrorId 'UserNameInvalid,*'
    }
}

Describe 'Values from messages against IMAP and SMTP injection' -Tag Integration {
    BeforeAll {
        $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
        Set-ReplyMailbox -ConfigPath $scenario.Config -MaxMessageSize 20000
        $t = $scenario.Token
        $b64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("x`r`nA1 DELETE INBOX`r`nBcc: staff@example.test"))
        $hostile = [ordered]@{
            'to' = "To: `"x`r`n A1 DELETE INBOX`" <news@example.test>"
            'subject' = "Subject: =?utf-8?B?${b64}?="
            'from' = "From: =?utf-8?B?${b64}?= <a`"b@customer.test>"
            'delivered' = "Delivered-To: news@example.test`r`n RCPT TO:<staff@example.test>"
            'imap-specials' = 'Subject: {5}\r\n) "A1 DELETE INBOX" %* \ ]'
        }
        $inputs = @{}
        $i = 0
        foreach ($key in $hostile.Keys) {
            $i++
            $text = [Text.Encoding]::UTF8.GetString((New-ResilienceReply -Token $t -Seq $i -MessageId "a`"b\) $key.$t@customer.test"))
            $field = $hostile[$key].Split(':')[0]
            $text = $text -replace "(?m)^$($field):[^\r\n]*", $hostile[$key].Replace('$', '$$')
            $inputs[$key] = [Text.Encoding]::UTF8.GetBytes($text)
            [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound "$key.eml"), $inputs[$key])
        }
        # Too large, so its hostile subject goes into the notice staff get.
        $big = [Text.Encoding]::UTF8.GetString((New-ResilienceReply -Token $t -Seq 9 -BodyBytes 30000)) -replace '(?m)^Subject:[^\r\n]*', "Subject: =?utf-8?B?${b64}?="
        [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound 'big.eml'), [Text.Encoding]::UTF8.GetBytes($big))
        # One message is claimed and was interrupted: recovery searches the folder for its hostile Message-ID.
        $inFlight = Join-Path $scenario.Inbound 'ReplyAdmin/InFlight'
        $null = New-Item -ItemType Directory -Path $inFlight -Force
        Move-Item (Join-Path $scenario.Inbound 'to.eml') (Join-Path $inFlight 'to.eml')
        $inboxBefore = Get-TestMessageCount -Server $server -User $scenario.ReplyUser -Folder INBOX
        $staffBefore = Get-TestMessageCount -Server $server -User 'staff@example.test'
        $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
        $stored = Get-ResilienceStored $scenario
        $forwarded = Get-ResilienceForwarded $scenario -Expected $hostile.Count
    }

    It 'Handles every message normally' {
        $results | Should -HaveCount ($hostile.Count + 1)
        $results.Outcome | Sort-Object -Unique | Should -Be 'Done'
    }

    It 'Stores each hostile message once, unchanged' {
        foreach ($key in $hostile.Keys) {
            @($stored | Where-Object { Test-ResilienceBytesEqual $_.Bytes $inputs[$key] }) | Should -HaveCount 1 -Because "$key must be stored once"
        }
    }

    It 'Leaves INBOX and the other folders of the reply mailbox in place' {
        Get-TestMessageCount -Server $server -User $scenario.ReplyUser -Folder INBOX | Should -Be $inboxBefore
        $client = Connect-TestImap -Server $server -User $scenario.ReplyUser
        try { $client.GetFolder('INBOX').Exists | Should -BeTrue } finally { $client.Disconnect($true); $client.Dispose() }
    }

    It 'Forwards only to the configured address' {
        @($forwarded | ForEach-Object { Get-ResilienceSeq $_.Bytes } | Sort-Object -Unique) | Should -HaveCount $hostile.Count
        Start-Sleep -Seconds 1
        Get-TestMessageCount -Server $server -User 'staff@example.test' | Should -Be $staffBefore
    }

    It 'Keeps a hostile subject inside the Subject field of the notice' {
        $notice = @($stored | Where-Object { $_.Keywords -contains 'ReplyAdmin-TooLarge' })
        $notice | Should -HaveCount 1
        $head = [Text.Encoding]::UTF8.GetString($notice[0].Bytes).Split("`r`n`r`n")[0]
        $head | Should -Not -Match '(?m)^(A1 DELETE INBOX|Bcc:)'
    }
}
