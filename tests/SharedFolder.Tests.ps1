#Requires -Version 7.0
Set-StrictMode -Version Latest

# The reply folder in another account of the same server, shared with the inbound account (RFC 4314 ACL): the engine
# copies unchanged replies on the server (UID COPY into "shared/<user>/<folder>") instead of fetching and appending them
# (issue 17). A Dovecot of its own: shared folders need the acl plugin and '/' as the separator (user names hold dots).
BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    $savedEnvironment = @{ Replies = $env:REPLYADMIN_TEST_REPLIES_PW; Inbound = $env:REPLYADMIN_TEST_INBOUND_PW }
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test' -SharedFolders
    $fixtures = Join-Path $PSScriptRoot 'fixtures/replies'

    # A fixture with a Message-ID of its own, padded to -PadTo bytes.
    function New-SharedTestReply([string] $Directory, [string] $Template, [string] $Token, [int] $PadTo = 0) {
        $text = [IO.File]::ReadAllText((Join-Path $fixtures "$Template.eml")) -replace 'Message-ID: <([^@>]+)@', "Message-ID: <`$1.$Token@"
        if ($PadTo -gt $text.Length) { $text += (('x' * 76) + "`r`n") * [math]::Ceiling(($PadTo - $text.Length) / 78) }
        $path = Join-Path $Directory "$Token.eml"
        [IO.File]::WriteAllText($path, $text)
        $path
    }

    # A reply folder of replies@ (shared with inbound@ with -Rights, Dovecot's names), an inbound folder of inbound@ holding
    # a 1 MB reply, a small one and an out-of-office reply, and a run over it. Returns what was stored and sent.
    function Invoke-SharedScenario([string[]] $Rights) {
        $token = [guid]::NewGuid().ToString('N').Substring(0, 10)
        $replyFolder = "Replies-$token"; $inbound = "In-$token"
        $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList '-c', $server.DovecotConfig, 'mailbox', 'create', '-u', 'replies@example.test', $replyFolder
        if ($Rights) {
            $null = Invoke-TestMailNative -FilePath 'doveadm' -ArgumentList (@('-c', $server.DovecotConfig, 'acl', 'set', '-u', 'replies@example.test', $replyFolder, 'user=inbound@example.test') + $Rights)
        }
        $config = New-TestReplyConfiguration -Server $server -ReplyFolder $replyFolder
        Add-ReplyList -ConfigPath $config -Name news -Address 'news@example.test' -AutoReplies Exclude
        Set-ReplySource -ConfigPath $config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
            -Folder $inbound -CredentialReference 'env:REPLYADMIN_TEST_INBOUND_PW' -CertificateThumbprint $server.CertificateThumbprint `
            -ProcessedFolder "$inbound/Processed" -ArchiveFolder "$inbound/Auto"
        $files = Join-Path (Split-Path $config) 'files'
        $null = New-Item -ItemType Directory -Path $files
        $paths = @((New-SharedTestReply $files 'human' "$($token)l" -PadTo 1MB), (New-SharedTestReply $files 'human' "$($token)s"), (New-SharedTestReply $files 'out-of-office' "$($token)o"))
        Add-TestImapMessage -Server $server -User 'inbound@example.test' -Folder $inbound -Path $paths
        $logOffset = (Get-Item -LiteralPath $server.DovecotLogPath).Length
        $output = @(Invoke-ReplyProcessing -ConfigPath $config -Verbose 4>&1)
        # Dovecot logs each session's traffic at logout (the run has logged out of all): body_bytes is what FETCH sent, in=
        # what the client sent. The log process writes a moment later.
        Start-Sleep -Seconds 1
        $log = [IO.File]::ReadAllText($server.DovecotLogPath).Substring($logOffset)
        $fetched = @([regex]::Matches($log, 'imap\(inbound@example\.test\).*Logged out .*body_bytes=(\d+)') | ForEach-Object { [long] $_.Groups[1].Value })
        $received = @([regex]::Matches($log, 'imap\(replies@example\.test\).*Logged out in=(\d+)') | ForEach-Object { [long] $_.Groups[1].Value })
        [pscustomobject]@{
            Folder    = $replyFolder
            Config    = $config
            Results   = @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
            Verbose   = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            Stored    = @(Get-TestImapMessage -Server $server -User 'replies@example.test' -Folder $replyFolder)
            Processed = @(Get-TestImapMessage -Server $server -User 'inbound@example.test' -Folder "$inbound/Processed")
            Fetched   = ($fetched | Measure-Object -Sum).Sum
            Received  = ($received | Measure-Object -Sum).Sum
        }
    }

    function Test-BytesEqual([byte[]] $A, [byte[]] $B) { [Linq.Enumerable]::SequenceEqual($A, $B) }

    # What Test-ReplyImapConnection -Target Source -Verbose says, as text lines.
    function Get-SourceTestVerbose([string] $Config) {
        @(Test-ReplyImapConnection -ConfigPath $Config -Target Source -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    $env:REPLYADMIN_TEST_REPLIES_PW = $savedEnvironment.Replies
    $env:REPLYADMIN_TEST_INBOUND_PW = $savedEnvironment.Inbound
}

Describe 'Invoke-ReplyProcessing into a reply folder another account shares' -Tag Integration {
    Context 'When the reply account shares the folder with the inbound account (insert, seen, write)' {
        BeforeAll { $run = Invoke-SharedScenario -Rights 'lookup', 'read', 'write', 'write-seen', 'insert' }

        It 'Copies the replies on the server and excludes the out-of-office reply' {
            @($run.Results | Where-Object { $_.Actions -match 'copied on the server' }) | Should -HaveCount 2
            ($run.Results | Where-Object Disposition -EQ 'Exclude').Class | Should -Be 'AutoReply'
            @($run.Results | Where-Object Outcome -NE 'Done') | Should -HaveCount 0
        }

        It 'Stores byte-identical copies that the reply account reads back with the list keyword only, unread' {
            $run.Stored | Should -HaveCount 2
            foreach ($copy in $run.Stored) {
                @($run.Processed | Where-Object { Test-BytesEqual $_.Bytes $copy.Bytes }) | Should -HaveCount 1 -Because "$($copy.MessageId) is an unchanged copy of a handled original"
                $copy.Keywords | Should -Contain 'ReplyAdmin-List-news'
                @($copy.Keywords | Where-Object { $_ -in 'ReplyAdmin-Claimed', 'ReplyAdmin-Stored' }) | Should -HaveCount 0
                $copy.Flags.ToString() | Should -Not -Match '\bSeen\b'
            }
            @($run.Stored | Where-Object { $_.Bytes.Length -gt 1MB }) | Should -HaveCount 1
        }

        It 'Tells in verbose output where it copies to, in the run and in Test-ReplyImapConnection -Target Source' {
            $said = "The reply folder is shared with the inbound account as 'shared/replies@example.test/$($run.Folder)': replies stored unchanged are copied on the server."
            $run.Verbose | Should -Contain $said
            Get-SourceTestVerbose $run.Config | Should -Contain $said
        }

        It 'Sends no body through the client: neither fetched from the inbound account nor appended to the reply account' {
            $run.Fetched | Should -BeLessThan 200KB
            $run.Received | Should -BeLessThan 200KB
        }
    }

    Context 'When the folder is shared without the right to insert' {
        BeforeAll { $run = Invoke-SharedScenario -Rights 'lookup', 'read' }

        It 'Fetches and appends instead, and stores the same replies' {
            @($run.Results | Where-Object { $_.Actions -match 'copied on the server' }) | Should -HaveCount 0
            @($run.Results | Where-Object Outcome -NE 'Done') | Should -HaveCount 0
            $run.Stored | Should -HaveCount 2
            foreach ($copy in $run.Stored) { $copy.Keywords | Should -Contain 'ReplyAdmin-List-news' }
            $run.Fetched | Should -BeGreaterThan 1MB
            $run.Received | Should -BeGreaterThan 1MB
        }

        It 'Tells in verbose output which rights are missing' {
            $run.Verbose | Should -Contain "Replies are fetched and appended, not copied on the server: the inbound account's rights on 'shared/replies@example.test/$($run.Folder)' are 'lr', not all of r, i, s and w."
        }
    }

    Context 'When the folder is not shared at all' {
        BeforeAll { $run = Invoke-SharedScenario -Rights @() }

        It 'Fetches and appends, as between any two accounts' {
            @($run.Results | Where-Object { $_.Actions -match 'copied on the server' }) | Should -HaveCount 0
            $run.Stored | Should -HaveCount 2
            $run.Fetched | Should -BeGreaterThan 1MB
            $said = "Replies are fetched and appended, not copied on the server: the inbound account does not see 'shared/replies@example.test/$($run.Folder)' (the reply folder is not shared with it)."
            $run.Verbose | Should -Contain $said
            Get-SourceTestVerbose $run.Config | Should -Contain $said
        }

        It 'Says nothing of it without -Verbose, and still reports the source' {
            $report = Test-ReplyImapConnection -ConfigPath $run.Config -Target Source 4>&1
            @($report | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) | Should -HaveCount 0
            $report.Succeeded | Should -BeTrue
        }
    }
}
