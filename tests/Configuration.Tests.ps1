#Requires -Version 7.0
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    Import-Module $ModulePath -Force
}

Describe 'Add-ReplyList' -Tag Unit {
    BeforeEach {
        $config = New-TestConfigPath
    }

    Context 'When the list is valid' {
        It 'Stores the list and reads it back with every field' {
            Add-ReplyList -ConfigPath $config -Name 'news-de' -Address 'news@example.test' -Action ForwardAndStoreInImap `
                -AutoReplies Exclude -ForwardTo 'team@example.test', 'boss@example.test' -Description 'German newsletter'
            $list = Get-ReplyList -ConfigPath $config -Name 'news-de'
            $list.Address | Should -Be 'news@example.test'
            $list.Action | Should -Be 'ForwardAndStoreInImap'
            $list.AutoReplies | Should -Be 'Exclude'
            $list.ForwardTo | Should -Be @('team@example.test', 'boss@example.test')
            $list.Description | Should -Be 'German newsletter'
        }

        It 'Writes a schema version and no password into the file' {
            Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
            $json = Get-Content $config -Raw | ConvertFrom-Json
            $json.schemaVersion | Should -Be 1
            $json.lists[0].name | Should -Be 'a'
        }

        It 'Returns the list with -PassThru and nothing without it' {
            Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test' | Should -BeNullOrEmpty
            (Add-ReplyList -ConfigPath $config -Name 'b' -Address 'b@example.test' -PassThru).Name | Should -Be 'b'
        }

        It 'Changes nothing with -WhatIf' {
            Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test' -WhatIf
            Test-Path $config | Should -BeFalse
        }

        It 'Uses $env:REPLYADMIN_CONFIG when no -ConfigPath is given' {
            $env:REPLYADMIN_CONFIG = $config
            try {
                Add-ReplyList -Name 'viaenv' -Address 'env@example.test'
                (Get-Content $config -Raw | ConvertFrom-Json).lists[0].name | Should -Be 'viaenv'
            }
            finally { Remove-Item Env:REPLYADMIN_CONFIG }
        }
    }

    Context 'When the input is invalid' {
        BeforeEach {
            Add-ReplyList -ConfigPath $config -Name 'existing' -Address 'list@example.test'
        }

        It 'Refuses <Scenario> with <ErrorId> and leaves the file unchanged' -TestCases @(
            @{ Scenario = 'a malformed address'; ErrorId = 'ListAddressInvalid'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = 'not an address' } }
            @{ Scenario = 'an address with CR/LF'; ErrorId = 'ListAddressInvalid'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = "x@example.test`r`nBcc: evil@example.test" } }
            @{ Scenario = 'an address with a display name'; ErrorId = 'ListAddressInvalid'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = 'List <x@example.test>' } }
            @{ Scenario = 'a duplicate address in other case'; ErrorId = 'ListAddressDuplicate'; Category = 'ResourceExists'; Params = @{ Name = 'x'; Address = 'LIST@Example.test' } }
            @{ Scenario = 'a duplicate name'; ErrorId = 'ListNameDuplicate'; Category = 'ResourceExists'; Params = @{ Name = 'EXISTING'; Address = 'other@example.test' } }
            @{ Scenario = 'a name with spaces'; ErrorId = 'ListNameInvalid'; Category = 'InvalidArgument'; Params = @{ Name = 'my list'; Address = 'x@example.test' } }
            @{ Scenario = 'a name with CR/LF'; ErrorId = 'ListNameInvalid'; Category = 'InvalidArgument'; Params = @{ Name = "x`r`ny"; Address = 'x@example.test' } }
            @{ Scenario = 'forwarding without an address'; ErrorId = 'ForwardAddressRequired'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = 'x@example.test'; Action = 'ForwardAndStoreInImap' } }
            @{ Scenario = 'forwarding to another list'; ErrorId = 'ForwardAddressLoop'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = 'x@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'list@example.test' } }
            @{ Scenario = 'forwarding to itself'; ErrorId = 'ForwardAddressLoop'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = 'x@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'X@example.test' } }
            @{ Scenario = 'a malformed forward address'; ErrorId = 'ForwardAddressInvalid'; Category = 'InvalidArgument'; Params = @{ Name = 'x'; Address = 'x@example.test'; ForwardTo = 'team@' } }
        ) {
            param($Scenario, $ErrorId, $Category, $Params)
            $before = Get-Content $config -Raw
            $err = $null
            Add-ReplyList -ConfigPath $config @Params -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be "$ErrorId,ReplyAdmin.Commands.AddReplyListCommand"
            $err[0].CategoryInfo.Category | Should -Be $Category
            $err[0].TargetObject | Should -Not -BeNullOrEmpty
            $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
            Get-Content $config -Raw | Should -Be $before
        }

        It 'Goes on with the next list in a pipeline after a bad one' {
            $lists = @(
                [pscustomobject]@{ Name = 'bad'; Address = 'nope' }
                [pscustomobject]@{ Name = 'good'; Address = 'good@example.test' }
            )
            $lists | Add-ReplyList -ConfigPath $config -ErrorAction SilentlyContinue -ErrorVariable err
            $err | Should -HaveCount 1
            (Get-ReplyList -ConfigPath $config).Name | Should -Be @('existing', 'good')
        }
    }
}

Describe 'Get-ReplyList' -Tag Unit {
    BeforeAll {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@example.test'
        Add-ReplyList -ConfigPath $config -Name 'sales' -Address 'sales@example.test'
    }

    It 'Returns every list when no name is given' {
        (Get-ReplyList -ConfigPath $config).Name | Should -Be @('news', 'sales')
    }

    It 'Filters by wildcard' {
        (Get-ReplyList -ConfigPath $config -Name 'sa*').Name | Should -Be 'sales'
    }

    It 'Finds the list of a sub-address' {
        (Get-ReplyList -ConfigPath $config -Address 'NEWS+spring2026@example.test').Name | Should -Be 'news'
    }

    It 'Reports a list that does not exist as ObjectNotFound' {
        { Get-ReplyList -ConfigPath $config -Name 'nope' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ListNotFound,ReplyAdmin.Commands.GetReplyListCommand'
    }

    It 'Returns an empty result for a configuration file that does not exist yet' {
        Get-ReplyList -ConfigPath (New-TestConfigPath) | Should -BeNullOrEmpty
    }

    It 'Completes list names from the configuration' {
        $line = "Get-ReplyList -ConfigPath '$config' -Name s"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('sales')
    }
}

Describe 'Set-ReplyListHandling' -Tag Unit {
    BeforeEach {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@example.test'
        Add-ReplyList -ConfigPath $config -Name 'sales' -Address 'sales@example.test'
    }

    It 'Sets <Setting>' -TestCases @(
        @{ Setting = 'Store in IMAP (including auto-generated replies)'; Action = 'StoreInImap'; AutoReplies = 'Include'; ForwardTo = @() }
        @{ Setting = 'Store in IMAP (without auto-generated replies)'; Action = 'StoreInImap'; AutoReplies = 'Exclude'; ForwardTo = @() }
        @{ Setting = 'Forward to address and store in IMAP (including auto-generated replies)'; Action = 'ForwardAndStoreInImap'; AutoReplies = 'Include'; ForwardTo = @('team@example.test') }
        @{ Setting = 'Forward to address and store in IMAP (without auto-generated replies)'; Action = 'ForwardAndStoreInImap'; AutoReplies = 'Exclude'; ForwardTo = @('team@example.test') }
    ) {
        param($Setting, $Action, $AutoReplies, $ForwardTo)
        $result = Set-ReplyListHandling -ConfigPath $config -Name news -Action $Action -AutoReplies $AutoReplies -ForwardTo $ForwardTo -PassThru
        $result.Setting | Should -Be $Setting
        $stored = Get-ReplyListHandling -ConfigPath $config -Name news
        $stored.Action | Should -Be $Action
        $stored.AutoReplies | Should -Be $AutoReplies
        @($stored.ForwardTo) | Should -Be $ForwardTo
    }

    It 'Takes list names from the pipeline by property name' {
        Get-ReplyList -ConfigPath $config | Set-ReplyListHandling -ConfigPath $config -AutoReplies Exclude
        (Get-ReplyListHandling -ConfigPath $config).AutoReplies | Should -Be @('Exclude', 'Exclude')
    }

    It 'Keeps settings that are not given' {
        Set-ReplyListHandling -ConfigPath $config -Name news -Action ForwardAndStoreInImap -ForwardTo 'team@example.test'
        Set-ReplyListHandling -ConfigPath $config -Name news -AutoReplies Exclude
        $stored = Get-ReplyListHandling -ConfigPath $config -Name news
        $stored.Action | Should -Be 'ForwardAndStoreInImap'
        $stored.ForwardTo | Should -Be 'team@example.test'
    }

    It 'Refuses to forward without a forward address' {
        { Set-ReplyListHandling -ConfigPath $config -Name news -Action ForwardAndStoreInImap -ErrorAction Stop } |
            Should -Throw -ErrorId 'ForwardAddressRequired,ReplyAdmin.Commands.SetReplyListHandlingCommand'
        (Get-ReplyListHandling -ConfigPath $config -Name news).Action | Should -Be 'StoreInImap'
    }

    It 'Reports an unknown list and goes on with the next' {
        'nope', 'sales' | ForEach-Object { [pscustomobject]@{ Name = $_ } } |
            Set-ReplyListHandling -ConfigPath $config -AutoReplies Exclude -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -Be 'ListNotFound,ReplyAdmin.Commands.SetReplyListHandlingCommand'
        (Get-ReplyListHandling -ConfigPath $config -Name sales).AutoReplies | Should -Be 'Exclude'
    }
}

Describe 'Remove-ReplyList' -Tag Unit {
    It 'Removes the list with -Force and keeps the others' {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        Add-ReplyList -ConfigPath $config -Name 'b' -Address 'b@example.test'
        Remove-ReplyList -ConfigPath $config -Name 'a' -Force
        (Get-ReplyList -ConfigPath $config).Name | Should -Be 'b'
    }

    It 'Leaves the caller''s $ConfirmPreference as it was when -Force answers the question' {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        $before = $ConfirmPreference
        Remove-ReplyList -ConfigPath $config -Name 'a' -Force
        $ConfirmPreference | Should -Be $before
        $ConfirmPreference | Should -Not -Be 'None'
    }

    It 'Removes nothing under -WhatIf, even with -Force' {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        Remove-ReplyList -ConfigPath $config -Name 'a' -Force -WhatIf
        (Get-ReplyList -ConfigPath $config).Name | Should -Be 'a'
    }

    It 'Asks before removing (ShouldContinue) unless -Force is given' {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        # A non-interactive session cannot answer the question: the list stays.
        $err = $null
        try { Remove-ReplyList -ConfigPath $config -Name 'a' -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        (Get-ReplyList -ConfigPath $config).Name | Should -Be 'a'
    }
}

Describe 'ReplyAdmin module' -Tag Unit {
    It 'Resolves the name <Alias>, which the product was specified with, to <Command>' -TestCases @(
        @{ Alias = 'Set-ListReplyHandling'; Command = 'Set-ReplyListHandling' }
        @{ Alias = 'Get-ListReplyHandling'; Command = 'Get-ReplyListHandling' }
        @{ Alias = 'Test-ImapConnection'; Command = 'Test-ReplyImapConnection' }
    ) {
        $resolved = Get-Command $Alias
        $resolved.CommandType | Should -Be 'Alias'
        $resolved.ResolvedCommand.Name | Should -Be $Command
        (Get-Module ReplyAdmin).ExportedAliases.Keys | Should -Contain $Alias
    }

    It 'Handles a list by the specified name' {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        Set-ListReplyHandling -ConfigPath $config -Name 'a' -AutoReplies Exclude
        (Get-ListReplyHandling -ConfigPath $config -Name 'a').AutoReplies | Should -Be 'Exclude'
    }
}

Describe 'Set-ReplyMailbox' -Tag Unit {
    BeforeEach { $config = New-TestConfigPath }

    It 'Stores the mailbox with defaults of port 993 and 10 MB' {
        Set-ReplyMailbox -ConfigPath $config -Server 'imap.example.test' -UserName 'replies@example.test' -Folder 'Replies' -CredentialReference 'env:RA_PW'
        $mailbox = Get-ReplyMailbox -ConfigPath $config
        $mailbox.Host | Should -Be 'imap.example.test'
        $mailbox.Port | Should -Be 993
        $mailbox.MaxMessageSize | Should -Be 10485760
        $mailbox.Folder | Should -Be 'Replies'
        $mailbox.CredentialReference | Should -Be 'env:RA_PW'
    }

    It 'Normalizes a thumbprint given with colons and lower case' {
        $thumb = (1..32 | ForEach-Object { 'ab' }) -join ':'
        Set-ReplyMailbox -ConfigPath $config -Server 'h.example.test' -UserName 'u' -CertificateThumbprint $thumb
        (Get-ReplyMailbox -ConfigPath $config).CertificateThumbprint | Should -Be ('AB' * 32)
    }

    It 'Removes the pin with an empty thumbprint' {
        Set-ReplyMailbox -ConfigPath $config -Server 'h.example.test' -UserName 'u' -CertificateThumbprint ('AB' * 32)
        Set-ReplyMailbox -ConfigPath $config -CertificateThumbprint ''
        (Get-ReplyMailbox -ConfigPath $config).CertificateThumbprint | Should -BeNullOrEmpty
        (Get-Content $config -Raw | ConvertFrom-Json).replyMailbox.PSObject.Properties.Name | Should -Not -Contain 'certificateThumbprint'
    }

    It 'Refuses <Scenario>' -TestCases @(
        @{ Scenario = 'a password given as credential reference'; ErrorId = 'CredentialReferenceInvalid'; Params = @{ Server = 'h.example.test'; UserName = 'u'; CredentialReference = 'Secret123!' } }
        @{ Scenario = 'a folder with CR/LF'; ErrorId = 'FolderNameInvalid'; Params = @{ Server = 'h.example.test'; UserName = 'u'; Folder = "INBOX`r`nA1 DELETE INBOX" } }
        @{ Scenario = 'a folder with a wildcard'; ErrorId = 'FolderNameInvalid'; Params = @{ Server = 'h.example.test'; UserName = 'u'; Folder = 'Rep*' } }
        @{ Scenario = 'a host with spaces'; ErrorId = 'HostInvalid'; Params = @{ Server = 'imap example'; UserName = 'u' } }
        @{ Scenario = 'no user name'; ErrorId = 'UserNameInvalid'; Params = @{ Server = 'h.example.test' } }
        @{ Scenario = 'a short thumbprint'; ErrorId = 'CertificateThumbprintInvalid'; Params = @{ Server = 'h.example.test'; UserName = 'u'; CertificateThumbprint = 'ABCD' } }
    ) {
        param($Scenario, $ErrorId, $Params)
        { Set-ReplyMailbox -ConfigPath $config @Params -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,ReplyAdmin.Commands.SetReplyMailboxCommand"
        Test-Path $config | Should -BeFalse
    }

    It 'Never echoes a mistyped password in the error' {
        $err = { Set-ReplyMailbox -ConfigPath $config -Server 'h.example.test' -UserName 'u' -CredentialReference 'Secret123!' -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.ToString() | Should -Not -Match 'Secret123'
        $err.TargetObject | Should -Not -Match 'Secret123'
    }

    It 'Refuses ports out of range at binding' {
        { Set-ReplyMailbox -ConfigPath $config -Server 'h.example.test' -UserName 'u' -Port 70000 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,ReplyAdmin.Commands.SetReplyMailboxCommand'
    }
}

Describe 'Set-ReplySmtpRelay' -Tag Unit {
    BeforeEach { $config = New-TestConfigPath }

    It 'Stores the relay' {
        Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.test' -Port 587 -TlsMode StartTls -EnvelopeSender 'bounces@example.test'
        $relay = Get-ReplySmtpRelay -ConfigPath $config
        $relay.Host | Should -Be 'smtp.example.test'
        $relay.TlsMode | Should -Be 'StartTls'
        $relay.EnvelopeSender | Should -Be 'bounces@example.test'
    }

    It 'Refuses a relay without TLS except on loopback' {
        { Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.test' -TlsMode None -ErrorAction Stop } |
            Should -Throw -ErrorId 'SmtpTlsRequired,ReplyAdmin.Commands.SetReplySmtpRelayCommand'
        Set-ReplySmtpRelay -ConfigPath $config -Server '127.0.0.1' -Port 25 -TlsMode None
        (Get-ReplySmtpRelay -ConfigPath $config).TlsMode | Should -Be 'None'
    }

    It 'Refuses an envelope sender with CR/LF' {
        { Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.test' -EnvelopeSender "a@example.test`r`nRCPT TO:<x@y>" -ErrorAction Stop } |
            Should -Throw -ErrorId 'EnvelopeSenderInvalid,ReplyAdmin.Commands.SetReplySmtpRelayCommand'
    }
}

Describe 'Set-ReplySource' -Tag Unit {
    It 'Stores a Maildir source with an absolute path' {
        $config = New-TestConfigPath
        Push-Location ([IO.Path]::GetTempPath())
        try { Set-ReplySource -ConfigPath $config -Kind Maildir -Path 'inbound-maildir' }
        finally { Pop-Location }
        $source = Get-ReplySource -ConfigPath $config
        $source.Kind | Should -Be 'Maildir'
        [IO.Path]::IsPathRooted($source.Path) | Should -BeTrue
    }
}

Describe 'Configuration file' -Tag Unit {
    Context 'When the file was edited by hand and is broken' {
        It 'Names the file and the field for <Scenario>' -TestCases @(
            @{ Scenario = 'an unknown enum value'; Json = '{"schemaVersion":1,"lists":[{"name":"a","address":"a@example.test","action":"Bogus"}]}'; Field = 'lists\[0\]\.action'; ErrorId = 'ConfigurationFileInvalid' }
            @{ Scenario = 'a misspelt field'; Json = '{"schemaVersion":1,"lists":[{"name":"a","adress":"a@example.test"}]}'; Field = 'lists\[0\]\.adress'; ErrorId = 'ConfigurationFileInvalid' }
            @{ Scenario = 'an invalid address'; Json = '{"schemaVersion":1,"lists":[{"name":"a","address":"a@example.test"},{"name":"b","address":"b at example"}]}'; Field = 'lists\[1\]\.address'; ErrorId = 'ListAddressInvalid' }
            @{ Scenario = 'truncated JSON'; Json = '{"schemaVersion":1,"lists":[{"name":"a"'; Field = 'line'; ErrorId = 'ConfigurationFileInvalid' }
            @{ Scenario = 'a future schema'; Json = '{"schemaVersion":99}'; Field = 'schemaVersion'; ErrorId = 'ConfigurationSchemaUnsupported' }
        ) {
            param($Scenario, $Json, $Field, $ErrorId)
            $config = New-TestConfigPath
            Set-Content -Path $config -Value $Json
            $err = { Get-ReplyList -ConfigPath $config -ErrorAction Stop } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -Be "$ErrorId,ReplyAdmin.Commands.GetReplyListCommand"
            $err.Exception.Message | Should -Match ([regex]::Escape($config))
            $err.Exception.Message | Should -Match $Field
        }
    }

    Context 'When two processes change the configuration at once' {
        It 'Keeps every change of both writers' {
            $config = New-TestConfigPath
            $pwsh = Get-PwshCommand
            $jobs = 1..2 | ForEach-Object {
                $writer = $_
                $script = "Import-Module '$ModulePath'; 1..15 | ForEach-Object { Add-ReplyList -ConfigPath '$config' -Name ('w$writer-' + `$_) -Address ('w$writer-' + `$_ + '@example.test') }"
                Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru
            }
            $jobs | Wait-Process -Timeout 120
            $jobs | ForEach-Object { $_.ExitCode | Should -Be 0 }
            $names = (Get-ReplyList -ConfigPath $config).Name
            $names | Should -HaveCount 30
            Get-ChildItem (Split-Path $config) -Filter '*.tmp' | Should -BeNullOrEmpty
        }
    }

    Context 'When the file was written by an older ReplyAdmin with another schema' {
        # Schema version 1 is the first, so no real older file exists yet: the test registers a step from a made-up
        # version 0 (whose lists were called "campaigns") in the engine's migration table, as a format change would.
        BeforeAll {
            $migrations = (Get-ReplyAdminType ReplyAdmin.Engine.Configuration.ConfigurationStore).GetField('Migrations', [Reflection.BindingFlags]'NonPublic, Static').GetValue($null)
            $step = [Action[Text.Json.Nodes.JsonObject]] {
                param($root)
                $campaigns = $root['campaigns']
                [void] $root.Remove('campaigns')
                $root['lists'] = $campaigns
            }
        }
        AfterAll { [void] $migrations.Remove(0) }

        It 'Converts it on first use and keeps the old file as config.json.v0.bak' {
            $migrations[0] = $step
            $config = New-TestConfigPath
            $old = '{ "schemaVersion": 0, "campaigns": [ { "name": "news", "address": "news@example.test" } ] }'
            Set-Content -LiteralPath $config -Value $old -NoNewline
            (Get-ReplyList -ConfigPath $config).Name | Should -Be 'news'
            Get-Content -LiteralPath "$config.v0.bak" -Raw | Should -BeExactly $old
            $converted = Get-Content -LiteralPath $config -Raw | ConvertFrom-Json
            $converted.schemaVersion | Should -Be 1
            $converted.lists[0].name | Should -Be 'news'
            $converted.PSObject.Properties.Name | Should -Not -Contain 'campaigns'
        }

        It 'Refuses a version it has no conversion for, and leaves the file as it was' {
            [void] $migrations.Remove(0)
            $config = New-TestConfigPath
            Set-Content -LiteralPath $config -Value '{ "schemaVersion": 0, "lists": [] }' -NoNewline
            { Get-ReplyList -ConfigPath $config -ErrorAction Stop } | Should -Throw -ErrorId 'ConfigurationSchemaUnsupported*'
            Get-Content -LiteralPath $config -Raw | Should -BeExactly '{ "schemaVersion": 0, "lists": [] }'
            Test-Path "$config.v0.bak" | Should -BeFalse
        }
    }
}

Describe 'Dangerous settings (issue 16)' -Tag Unit {
    BeforeEach {
        $config = New-TestConfigPath
        Set-ReplyMailbox -ConfigPath $config -Server 'imap.example.test' -UserName 'replies@example.test' -Folder 'Replies' -CredentialReference 'env:X'
    }

    It 'Refuses the reply folder itself as the source (SourceIsReplyFolder)' {
        { Set-ReplySource -ConfigPath $config -Kind Imap -Server 'IMAP.example.test' -UserName 'Replies@example.test' -Folder 'Replies' -CredentialReference 'env:X' -ErrorAction Stop } |
            Should -Throw -ErrorId 'SourceIsReplyFolder,ReplyAdmin.Commands.SetReplySourceCommand'
        # Another folder of the same mailbox is a different place.
        Set-ReplySource -ConfigPath $config -Kind Imap -Server 'imap.example.test' -UserName 'replies@example.test' -Folder 'INBOX' -CredentialReference 'env:X'
    }

    It 'Refuses a <Field> equal to the source <Kind> (ProcessedFolderIsSource)' -TestCases @(
        @{ Kind = 'Imap'; Field = 'ProcessedFolder'; Value = 'inbox' }
        @{ Kind = 'Imap'; Field = 'RejectedFolder'; Value = 'INBOX' }
        @{ Kind = 'Directory'; Field = 'ProcessedFolder'; Value = '.' }
    ) {
        $params = if ($Kind -eq 'Imap') { @{ Server = 'in.example.test'; UserName = 'inbound@example.test'; Folder = 'INBOX'; CredentialReference = 'env:X' } }
                  else { @{ Path = (Join-Path (Split-Path $config) 'inbound') } }
        $params[$Field] = $Value
        { Set-ReplySource -ConfigPath $config -Kind $Kind @params -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProcessedFolderIsSource,ReplyAdmin.Commands.SetReplySourceCommand'
    }

    It 'Refuses forwarding to the inbound mailbox (ForwardAddressInbound)' {
        Set-ReplySource -ConfigPath $config -Kind Imap -Server 'in.example.test' -UserName 'inbound@example.test' -CredentialReference 'env:X'
        { Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@example.test' -Action ForwardAndStoreInImap -ForwardTo 'Inbound@example.test' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ForwardAddressInbound,ReplyAdmin.Commands.AddReplyListCommand'
    }

    It 'Refuses forwarding to a list''s sub-address (ForwardAddressLoop)' {
        Add-ReplyList -ConfigPath $config -Name 'news' -Address 'news@example.test'
        { Add-ReplyList -ConfigPath $config -Name 'other' -Address 'other@example.test' -Action ForwardAndStoreInImap -ForwardTo 'news+x@example.test' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ForwardAddressLoop,ReplyAdmin.Commands.AddReplyListCommand'
    }

    It 'Refuses a relative file: credential reference (CredentialReferenceRelative)' {
        { Set-ReplyMailbox -ConfigPath $config -CredentialReference 'file:secrets/imap.password' -ErrorAction Stop } |
            Should -Throw -ErrorId 'CredentialReferenceRelative,ReplyAdmin.Commands.SetReplyMailboxCommand'
        Set-ReplyMailbox -ConfigPath $config -CredentialReference 'file:/etc/replyadmin/imap.password'
    }
}

Describe 'Configuration and journal permissions (issue 16)' -Tag Unit -Skip:$IsWindows {
    It 'Writes the configuration owner-only (0600) in a directory it creates owner-only (0700)' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "ra-perm-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $config = Join-Path $dir 'config.json'
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        [int] (Get-Item $config).UnixFileMode | Should -Be 0x180  # 0600
        [int] (Get-Item $dir).UnixFileMode | Should -Be 0x1C0  # 0700
        Remove-Item $dir -Recurse -Force
    }

    It 'Tightens an existing configuration file written 0644 on its next change' {
        $config = New-TestConfigPath
        Set-Content -Path $config -Value '{"schemaVersion":1,"lists":[]}'
        & chmod 644 $config
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        [int] (Get-Item $config).UnixFileMode | Should -Be 0x180  # 0600
    }

    It 'Warns when the configuration or its directory can be written by others' {
        $config = New-TestConfigPath
        Add-ReplyList -ConfigPath $config -Name 'a' -Address 'a@example.test'
        $null = Get-ReplyList -ConfigPath $config -WarningVariable quiet -WarningAction SilentlyContinue
        $quiet | Should -BeNullOrEmpty
        & chmod 666 $config
        & chmod 777 (Split-Path $config)
        $null = Get-ReplyList -ConfigPath $config -WarningVariable loud -WarningAction SilentlyContinue
        @($loud).Count | Should -Be 2
        ($loud -join "`n") | Should -Match 'ConfigurationWritableByOthers: the configuration file .* can be written by other users \(mode 666\)'
        ($loud -join "`n") | Should -Match 'directory of the configuration file'
    }
}
