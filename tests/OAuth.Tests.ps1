#Requires -Version 7.0
# OAuth2 for IMAP and SMTP against real servers: Dovecot's oauth2 passdb checks every token at the tests' own authorization
# server (tests/Support/OAuthTestServer.cs) by introspection; Postfix takes SMTP AUTH through Dovecot's SASL. The real MSAL
# and Google code paths get their tokens from that server over https, its certificate trusted only through the pin.
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    . "$PSScriptRoot/Support/OAuthServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    . "$PSScriptRoot/Support/Resilience.ps1"
    $oauth = Start-TestOAuthServer -TokenLifetimeSeconds 3600
    $server = Start-TestMailServer -OAuthIntrospectionUrl $oauth.Introspection
    $work = Split-Path (New-TestConfigPath)
    $secret = 'Sec-' + (New-TestMailRandomString -Length 28)
    $env:REPLYADMIN_TEST_OAUTH_SECRET = $secret

    # A configuration whose reply mailbox logs in with OAuth2 from the test authority; extra parameters per token source.
    function New-OAuthConfig([hashtable] $Parameters, [string] $User = 'replies@example.test') {
        $config = New-TestConfigPath
        Set-ReplyMailbox -ConfigPath $config -Server $server.ImapHost -Port $server.ImapPort -UserName $User -Folder INBOX `
            -CertificateThumbprint $server.CertificateThumbprint -Authentication OAuth2 @Parameters
        $config
    }
    function Get-MsalParameters([string] $ClientId) {
        @{ TokenSource = 'MicrosoftClientCredentials'; ClientId = $ClientId; Authority = $oauth.Authority; AuthorityCertificateThumbprint = $oauth.Thumbprint; Scope = 'api://mail/.default' }
    }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
    Stop-TestOAuthServer $oauth
    if (Get-Command Remove-ResilienceScenario -ErrorAction SilentlyContinue) { Remove-ResilienceScenario }
}

Describe 'Dovecot oauth2 passdb' -Tag Integration {
    Context 'When a token comes from the token command' {
        BeforeAll {
            $tokenFile = Join-Path $work 'token.txt'
            $config = New-OAuthConfig @{ TokenSource = 'Command'; TokenCommand = "cat '$tokenFile'" }
        }

        It 'Should log in with a good token over <Mechanism>' -TestCases @(@{ Mechanism = 'XOAuth2' }, @{ Mechanism = 'OAuthBearer' }) {
            [IO.File]::WriteAllText($tokenFile, $oauth.Server.IssueDirect('cmd', 'replies@example.test', 600))
            Set-ReplyMailbox -ConfigPath $config -SaslMechanism $Mechanism
            $report = Test-ReplyImapConnection -ConfigPath $config
            $report.Succeeded | Should -BeTrue -Because $report.FailureReason
            $report.AuthenticationMechanism | Should -Be $Mechanism.ToUpperInvariant()
            $report.Mailbox | Should -Be 'replies@example.test'
        }

        It 'Should refuse <Case> over <Mechanism>' -TestCases @(
            @{ Case = 'an unknown token'; Mechanism = 'XOAuth2' }, @{ Case = 'an unknown token'; Mechanism = 'OAuthBearer' }
            @{ Case = 'an expired token'; Mechanism = 'XOAuth2' }, @{ Case = 'an expired token'; Mechanism = 'OAuthBearer' }
            @{ Case = "another mailbox's token"; Mechanism = 'XOAuth2' }
        ) {
            $token = switch ($Case) {
                'an unknown token' { 'at-' + (New-TestMailRandomString -Length 40) }
                'an expired token' { $oauth.Server.IssueDirect('cmd', 'replies@example.test', 1); Start-Sleep -Milliseconds 1500 }
                default { $oauth.Server.IssueDirect('cmd', 'staff@example.test', 600) }
            }
            [IO.File]::WriteAllText($tokenFile, $token)
            Set-ReplyMailbox -ConfigPath $config -SaslMechanism $Mechanism
            $report = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue -ErrorVariable problems
            $report.Succeeded | Should -BeFalse
            $report.FailedStep | Should -Be 'Authentication'
            $report.FailureErrorId | Should -Be 'ImapOAuthTokenRejected'
            $problems[0].FullyQualifiedErrorId | Should -BeLike 'ImapOAuthTokenRejected,*'
            (Get-Content -Raw (Join-Path $server.Root 'dovecot/dovecot.log')) | Should -Match 'auth failed|Authentication failed|Login failed|AUTHENTICATIONFAILED|aborted login'
        }

        It 'Should say which command failed without showing its output' {
            Set-ReplyMailbox -ConfigPath $config -TokenCommand "echo at-secret-output; echo 'no token for you' >&2; exit 3"
            $report = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
            $report.FailureErrorId | Should -Be 'OAuthCommandFailed'
            $report.FailureReason | Should -Match 'exited with code 3.*no token for you'
            $report.FailureReason | Should -Not -Match 'at-secret-output'
        }
    }
}

Describe 'Microsoft app-only token source (MSAL)' -Tag Integration {
    Context 'When the app has a client secret' {
        BeforeAll {
            $oauth.Server.AddSecretClient('app-secret', $secret, 'replies@example.test')
            $parameters = Get-MsalParameters 'app-secret'
            $parameters.ClientSecretReference = 'env:REPLYADMIN_TEST_OAUTH_SECRET'
            $config = New-OAuthConfig $parameters
            $before = $oauth.Server.Count('client_credentials')
            $report = Test-ReplyImapConnection -ConfigPath $config
        }

        It 'Should get a token from the authority and log in with XOAUTH2' {
            $report.Succeeded | Should -BeTrue -Because $report.FailureReason
            $report.AuthenticationMechanism | Should -Be 'XOAUTH2'
            $report.TokenSource | Should -Match 'Microsoft app-only \(client secret\), client app-secret'
            $oauth.Server.Count('client_credentials') | Should -Be ($before + 1)
        }

        It "Should report the token's expiry and the mailbox reached" {
            $report.TokenExpiresOn | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(50))
            $report.Mailbox | Should -Be 'replies@example.test'
            $report.FolderWritable | Should -BeTrue
        }

        It 'Should refuse a wrong secret with OAuthGrantRevoked and what to do' {
            $env:REPLYADMIN_TEST_OAUTH_SECRET_WRONG = 'wrong-' + $secret
            Set-ReplyMailbox -ConfigPath $config -ClientSecretReference 'env:REPLYADMIN_TEST_OAUTH_SECRET_WRONG'
            $wrong = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
            $wrong.FailureErrorId | Should -Be 'OAuthGrantRevoked'
            $wrong.FailedStep | Should -Be 'Authentication'
            $wrong.RecommendedAction | Should -Match 'Certificates & secrets'
            Set-ReplyMailbox -ConfigPath $config -ClientSecretReference 'env:REPLYADMIN_TEST_OAUTH_SECRET'
        }

        It 'Should refuse an untrusted authority certificate when no pin is set' {
            Set-ReplyMailbox -ConfigPath $config -AuthorityCertificateThumbprint ''
            $untrusted = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
            $untrusted.Succeeded | Should -BeFalse
            $untrusted.FailureErrorId | Should -Be 'OAuthAuthorityCertificateUntrusted'
            $untrusted.RecommendedAction | Should -Match "-AuthorityCertificateThumbprint $($oauth.Thumbprint)"
            Set-ReplyMailbox -ConfigPath $config -AuthorityCertificateThumbprint $oauth.Thumbprint
        }
    }

    Context 'When the app has a certificate and is revoked' {
        BeforeAll {
            $pfx = New-TestOAuthClientCertificate -OAuth $oauth -ClientId 'app-cert' -User 'replies@example.test' -Directory $work
            $parameters = Get-MsalParameters 'app-cert'
            $parameters.CertificateReference = "file:$pfx"
            $parameters.SaslMechanism = 'OAuthBearer'
            $config = New-OAuthConfig $parameters
        }

        It 'Should sign the client assertion with the certificate and log in with OAUTHBEARER' {
            $report = Test-ReplyImapConnection -ConfigPath $config
            $report.Succeeded | Should -BeTrue -Because $report.FailureReason
            $report.AuthenticationMechanism | Should -Be 'OAUTHBEARER'
            $report.TokenSource | Should -Match 'certificate'
        }

        It 'Should refuse a certificate file others can read' {
            & chmod 644 $pfx
            try { { Test-ReplyImapConnection -ConfigPath $config -ErrorAction Stop } | Should -Throw -ErrorId 'CredentialFileTooOpen,*' }
            finally { & chmod 600 $pfx }
        }

        It 'Should refresh once on AUTHENTICATIONFAILED and then name the revoked grant' {
            $good = Test-ReplyImapConnection -ConfigPath $config
            $good.Succeeded | Should -BeTrue
            $before = $oauth.Server.Introspections
            $oauth.Server.Revoke('app-cert')
            try {
                $report = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue -ErrorVariable problems
                $report.FailureErrorId | Should -Be 'OAuthGrantRevoked'
                $report.RecommendedAction | Should -Match 'IMAP.AccessAsApp'
                $problems[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
                # The cached token was tried (refused by introspection), then a new one was asked for and refused.
                $oauth.Server.Introspections | Should -Be ($before + 1)
            }
            finally { $oauth.Server.Restore('app-cert') }
        }
    }
}

Describe 'Google service account token source' -Tag Integration {
    It 'Should act as the mailbox user with the JWT bearer grant and log in' {
        $key = New-TestGoogleServiceAccountKey -OAuth $oauth -ClientEmail 'svc@replyadmin-test.iam.gserviceaccount.com' -Directory $work
        $config = New-OAuthConfig @{ TokenSource = 'GoogleServiceAccount'; KeyReference = "file:$key"; AuthorityCertificateThumbprint = $oauth.Thumbprint }
        $report = Test-ReplyImapConnection -ConfigPath $config
        $report.Succeeded | Should -BeTrue -Because $report.FailureReason
        $report.TokenSource | Should -Be 'Google service account svc@replyadmin-test.iam.gserviceaccount.com acting as replies@example.test'
        $oauth.Server.Log | Should -Contain 'issued jwt_bearer svc@replyadmin-test.iam.gserviceaccount.com replies@example.test'
        $oauth.Server.Revoke('svc@replyadmin-test.iam.gserviceaccount.com')
        Set-ReplyMailbox -ConfigPath $config -Folder INBOX # a new provider is not needed: the cached token is refused, the new request too
        $revoked = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
        $revoked.FailureErrorId | Should -Be 'OAuthGrantRevoked'
        $revoked.RecommendedAction | Should -Match 'Domain-wide delegation'
    }
}

Describe 'Connect-ReplyAccount' -Tag Integration {
    Context 'When the reply mailbox uses Microsoft device code' {
        BeforeAll {
            $oauth.Server.AddSecretClient('app-public', 'unused', 'replies@example.test')
            $cache = Join-Path $work 'tokens/replies.msal.json'
            $config = New-OAuthConfig @{ TokenSource = 'MicrosoftDeviceCode'; ClientId = 'app-public'; Authority = $oauth.Authority; AuthorityCertificateThumbprint = $oauth.Thumbprint; Scope = 'api://mail/IMAP'; TokenCachePath = $cache }
        }

        It 'Should ask to sign in first' {
            $report = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
            $report.FailureErrorId | Should -Be 'OAuthSignInRequired'
            $report.RecommendedAction | Should -Match 'Connect-ReplyAccount'
        }

        It 'Should show the device code, sign in and keep the refresh token in a file only the owner can read' {
            $result = Connect-ReplyAccount -ConfigPath $config -InformationVariable shown
            ($shown | Out-String) | Should -Match 'enter the code TEST-'
            $result.Account | Should -Be 'replies@example.test'
            $result.TokenCachePath | Should -Be $cache
            (& stat -c '%a' $cache) | Should -Be '600'
        }

        It 'Should log in later from the refresh token without anybody present' {
            $oauth.Server.TokenLifetimeSeconds = 20 # MSAL renews tokens with less than 5 minutes left: every login uses the refresh token
            try {
                $before = $oauth.Server.Count('refresh_token')
                $report = Test-ReplyImapConnection -ConfigPath $config
                $report.Succeeded | Should -BeTrue -Because $report.FailureReason
                $oauth.Server.Count('refresh_token') | Should -BeGreaterThan $before
            }
            finally { $oauth.Server.TokenLifetimeSeconds = 3600 }
        }

        It 'Should name the revoked sign-in and say to sign in again' {
            $oauth.Server.RevokeRefreshTokens()
            $report = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
            $report.FailureErrorId | Should -Be 'OAuthGrantRevoked'
            $report.RecommendedAction | Should -Match 'Connect-ReplyAccount -Target ReplyMailbox'
        }

        It 'Should refuse a token cache others can read' {
            & chmod 640 $cache
            $report = Test-ReplyImapConnection -ConfigPath $config -ErrorAction SilentlyContinue
            $report.FailureErrorId | Should -Be 'OAuthTokenCacheTooOpen'
            & chmod 600 $cache
        }
    }
}

Describe 'Invoke-ReplyProcessing with OAuth2' -Tag Integration {
    Context 'When a -Watch run lasts longer than the tokens live' {
        BeforeAll {
            $oauth.Server.AddSecretClient('app-store', $secret, 'replies@example.test')
            $oauth.Server.AddSecretClient('app-inbound', $secret, 'inbound@example.test')
            $scenario = New-ResilienceScenario
            Set-ResilienceImapSource $scenario
            $msal = Get-MsalParameters 'app-store'
            Set-ReplyMailbox -ConfigPath $scenario.Config -Authentication OAuth2 -ClientSecretReference 'env:REPLYADMIN_TEST_OAUTH_SECRET' @msal
            $msal = Get-MsalParameters 'app-inbound'
            Set-ReplySource -ConfigPath $scenario.Config -Authentication OAuth2 -ClientSecretReference 'env:REPLYADMIN_TEST_OAUTH_SECRET' @msal
            $oauth.Server.TokenLifetimeSeconds = 6
            $before = $oauth.Server.Count('client_credentials')
            $runspace = [powershell]::Create()
            $null = $runspace.AddScript("Import-Module '$ModulePath'; Invoke-ReplyProcessing -ConfigPath '$($scenario.Config)' -Watch -WatchInterval 00:00:02 -Verbose *>&1")
            $output = [Management.Automation.PSDataCollection[psobject]]::new()
            $handle = $runspace.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
            $clock = [Diagnostics.Stopwatch]::StartNew()
            for ($seq = 1; $seq -le 4; $seq++) {
                Add-ResilienceImapBytes -User 'inbound@example.test' -Folder $scenario.InboundFolder -Messages @(, (New-ResilienceReply -Token $scenario.Token -Seq $seq))
                Start-Sleep -Seconds 6
            }
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (@(Get-ResilienceStored $scenario).Count -lt 4 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 500 }
            $elapsed = $clock.Elapsed
            $runspace.Stop()
            $output = @($output) + @($runspace.Streams.Error)
            $runspace.Dispose()
            $oauth.Server.TokenLifetimeSeconds = 3600
            $stored = @(Get-ResilienceStored $scenario)
        }

        It 'Should store every reply that arrived while tokens expired and were renewed' {
            $elapsed.TotalSeconds | Should -BeGreaterThan 20
            $stored | Should -HaveCount 4
            @($output | Where-Object { $_ -is [Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
        }

        It 'Should have asked the authority for new tokens during the run' {
            ($oauth.Server.Count('client_credentials') - $before) | Should -BeGreaterOrEqual 4
        }
    }

    Context 'When the SMTP relay takes XOAUTH2 through Dovecot SASL' {
        BeforeAll {
            $oauth.Server.AddSecretClient('app-smtp', $secret, 'replies@example.test')
            $scenario = New-ResilienceScenario -Lists @{ Name = 'news'; Address = 'news@example.test'; Action = 'ForwardAndStoreInImap'; ForwardTo = 'forward@example.test' }
            $env:REPLYADMIN_TEST_SMTP_USER_PW = 'unused'
            $msal = Get-MsalParameters 'app-smtp'
            Set-ReplySmtpRelay -ConfigPath $scenario.Config -UserName 'replies@example.test' -Authentication OAuth2 -ClientSecretReference 'env:REPLYADMIN_TEST_OAUTH_SECRET' @msal
            [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound 'one.eml'), (New-ResilienceReply -Token $scenario.Token -Seq 1))
            $results = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config)
            $forwarded = Get-ResilienceForwarded $scenario -Expected 1
        }

        It 'Should forward after logging in with a token' {
            $results.Outcome | Should -Be 'Done'
            @($forwarded) | Should -HaveCount 1
            (Get-Content -Raw $server.PostfixLogPath) | Should -Match 'sasl_method=XOAUTH2, sasl_username=replies@example.test'
        }

        It 'Should keep the message and name the revoked grant when the relay refuses' {
            $oauth.Server.Revoke('app-smtp')
            try {
                [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound 'two.eml'), (New-ResilienceReply -Token $scenario.Token -Seq 2))
                $failed = @(Invoke-ReplyProcessing -ConfigPath $scenario.Config -ErrorAction SilentlyContinue)
                $failed.Outcome | Should -Be 'Failed'
                $failed.ErrorId | Should -Be 'OAuthGrantRevoked'
                $failed.Actions | Should -Contain 'Left at the source'
                Test-Path (Join-Path $scenario.Inbound 'ReplyAdmin/Processed/two.eml') | Should -BeFalse -Because 'a message is acknowledged only once forwarded'
            }
            finally { $oauth.Server.Restore('app-smtp') }
        }
    }

    Context 'When the native runner signs in to the reply mailbox with a Microsoft app-only token' {
        It 'Should get a token from the authority, log in with XOAUTH2 and store the reply' {
            $oauth.Server.AddSecretClient('app-native', $secret, 'replies@example.test')
            $scenario = New-ResilienceScenario
            $msal = Get-MsalParameters 'app-native'
            Set-ReplyMailbox -ConfigPath $scenario.Config -Authentication OAuth2 -ClientSecretReference 'env:REPLYADMIN_TEST_OAUTH_SECRET' @msal
            [IO.File]::WriteAllBytes((Join-Path $scenario.Inbound 'one.eml'), (New-ResilienceReply -Token $scenario.Token -Seq 1))
            $before = $oauth.Server.Count('client_credentials')
            $logins = @(Select-String -LiteralPath $server.DovecotLogPath -Pattern 'user=<replies@example\.test>, method=XOAUTH2').Count
            $run = Invoke-ScheduledRun $scenario.Config -Program Native
            $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
            $run.Output | Should -HaveCount 1
            $run.Output[0] | Should -Match '^ReplyAdmin run \S+: 1 messages: 1 stored \(0 forwarded, 0 unrouted\), 0 excluded, 0 rejected, 0 failed'
            $stored = @(Get-ResilienceStored $scenario)
            $stored | Should -HaveCount 1
            Get-ResilienceSeq $stored[0].Bytes | Should -Be "$($scenario.Token)-1"
            $oauth.Server.Count('client_credentials') | Should -Be ($before + 1)
            @(Select-String -LiteralPath $server.DovecotLogPath -Pattern 'user=<replies@example\.test>, method=XOAUTH2').Count | Should -BeGreaterThan $logins
        }
    }
}

Describe 'Set-ReplyMailbox -Authentication OAuth2' -Tag Unit {
    BeforeAll { $config = New-TestConfigPath; Set-ReplyMailbox -ConfigPath $config -Server 'imap.example.org' -UserName 'shared@example.org' }

    It 'Should refuse <Case> with <ErrorId>' -TestCases @(
        @{ Case = 'token parameters with password login'; ErrorId = 'OAuthSettingsWithoutOAuth2'; Parameters = @{ ClientId = 'x' } }
        @{ Case = 'OAuth2 without a token source'; ErrorId = 'OAuthTokenSourceMissing'; Parameters = @{ Authentication = 'OAuth2' } }
        @{ Case = 'app-only without a client id'; ErrorId = 'OAuthClientIdMissing'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'MicrosoftClientCredentials'; TenantId = 'contoso.onmicrosoft.com' } }
        @{ Case = 'app-only without a tenant'; ErrorId = 'OAuthTenantIdMissing'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'MicrosoftClientCredentials'; ClientId = 'c' } }
        @{ Case = 'app-only without certificate or secret'; ErrorId = 'OAuthClientCredentialMissing'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'MicrosoftClientCredentials'; ClientId = 'c'; TenantId = 't' } }
        @{ Case = 'both certificate and secret'; ErrorId = 'OAuthClientCredentialAmbiguous'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'MicrosoftClientCredentials'; ClientId = 'c'; TenantId = 't'; CertificateReference = 'file:/a.pfx'; ClientSecretReference = 'env:S' } }
        @{ Case = 'a secret typed in place of a reference'; ErrorId = 'CredentialReferenceInvalid'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'MicrosoftClientCredentials'; ClientId = 'c'; TenantId = 't'; ClientSecretReference = 'Abc~123.secret' } }
        @{ Case = 'a plain http authority'; ErrorId = 'OAuthAuthorityInvalid'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'GoogleServiceAccount'; KeyReference = 'file:/k.json'; Authority = 'http://idp.example.org' } }
        @{ Case = 'Google without a key'; ErrorId = 'OAuthKeyReferenceMissing'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'GoogleServiceAccount' } }
        @{ Case = 'a command without a command'; ErrorId = 'OAuthCommandMissing'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'Command' } }
        @{ Case = 'a scope with a space'; ErrorId = 'OAuthScopeInvalid'; Parameters = @{ Authentication = 'OAuth2'; TokenSource = 'Command'; TokenCommand = 'x'; Scope = 'a b' } }
    ) {
        { Set-ReplyMailbox -ConfigPath $config @Parameters -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,ReplyAdmin.Commands.SetReplyMailboxCommand"
        (Get-Content -Raw $config) | Should -Not -Match 'Abc~123'
    }

    It 'Should store only references and put the device-code cache beside the configuration' {
        $settings = Set-ReplyMailbox -ConfigPath $config -Authentication OAuth2 -TokenSource MicrosoftDeviceCode -TenantId 'contoso.onmicrosoft.com' -ClientId '00000000-0000-0000-0000-000000000001' -PassThru
        $settings.Authentication.TokenCachePath | Should -Be (Join-Path (Split-Path $config) 'tokens/replyMailbox.msal.json')
        Set-ReplyMailbox -ConfigPath $config -Authentication Password
        (Get-ReplyMailbox -ConfigPath $config).Authentication.Method | Should -Be 'Password'
    }

    It "Should tell staff's mail clients to use OAuth2" {
        Add-ReplyList -ConfigPath $config -Name news -Address 'news@example.org'
        Set-ReplyMailbox -ConfigPath $config -Authentication OAuth2
        $setting = Get-ReplyMailClientSetting -ConfigPath $config -Name news -WarningAction SilentlyContinue
        $setting.IncomingAuthentication | Should -Be 'OAuth2'
        Set-ReplySmtpRelay -ConfigPath $config -Server 'smtp.example.org' -UserName 'shared@example.org' -Authentication OAuth2 -TokenSource Command -TokenCommand 'get-token'
        $profile = Join-Path (Split-Path $config) 'news.xml'
        Export-ReplyMailClientProfile -ConfigPath $config -Name news -Format Thunderbird -Path $profile -WarningAction SilentlyContinue
        ([xml](Get-Content -Raw $profile)).clientConfig.emailProvider.incomingServer.authentication | Should -Be 'OAuth2'
        ([xml](Get-Content -Raw $profile)).clientConfig.emailProvider.outgoingServer.authentication | Should -Be 'OAuth2'
    }
}
