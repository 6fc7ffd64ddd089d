#Requires -Version 7.0
Set-StrictMode -Version Latest

BeforeAll {
    . "$PSScriptRoot/Support/Common.ps1"
    . "$PSScriptRoot/Support/MailServer.ps1"
    Import-Module $ModulePath -Force
    . "$PSScriptRoot/Support/ImapReader.ps1"
    $server = Start-TestMailServer -Users 'replies@example.test', 'inbound@example.test', 'forward@example.test'
    $password = $server.Users['replies@example.test']
    $credential = [pscredential]::new('replies@example.test', (ConvertTo-SecureString $password -AsPlainText -Force))
    $wrong = [pscredential]::new('replies@example.test', (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
    $common = @{ Server = $server.ImapHost; Port = $server.ImapPort; CertificateThumbprint = $server.CertificateThumbprint; TimeoutSeconds = 10 }
}

AfterAll {
    if ($server) { Stop-TestMailServer -Server $server }
}

Describe 'Test-ReplyImapConnection' -Tag Integration {
    Context 'When everything is right' {
        BeforeAll {
            $report = Test-ReplyImapConnection @common -Credential $credential
        }

        It 'Succeeds and reports the TLS session' {
            $report.Succeeded | Should -BeTrue
            $report.FailedStep | Should -Be 'None'
            $report.TlsProtocol | Should -Match '^Tls1[23]$'
            $report.TlsCipher | Should -Not -BeNullOrEmpty
        }

        It 'Reports the pinned certificate with its subject, expiry and thumbprint' {
            $report.Certificate.Subject | Should -Be 'CN=localhost'
            $report.Certificate.Thumbprint | Should -Be $server.CertificateThumbprint
            $report.Certificate.Pinned | Should -BeTrue
            $report.Certificate.Trusted | Should -BeFalse
            $report.Certificate.NotAfter | Should -BeGreaterThan ([DateTime]::UtcNow)
        }

        It 'Reports login, folder and the capabilities processing relies on' {
            $report.Authenticated | Should -BeTrue
            $report.FolderExists | Should -BeTrue
            $report.FolderWritable | Should -BeTrue
            foreach ($capability in 'UIDPLUS', 'MOVE', 'MULTIAPPEND', 'CONDSTORE', 'IDLE') { $report.Capabilities | Should -Contain $capability }
            $report.EffectiveMaxMessageSize | Should -Be 10485760
        }

        It 'Never puts the password in the result' {
            ($report | ConvertTo-Json -Depth 5) | Should -Not -Match ([regex]::Escape($password))
        }

        It 'Returns $true with -Quiet' {
            Test-ReplyImapConnection @common -Credential $credential -Quiet | Should -BeExactly $true
        }
    }

    Context 'When a step fails' {
        It 'Reports <Scenario> at step <Step> with <ErrorId>' -TestCases @(
            @{ Scenario = 'a wrong password'; Step = 'Authentication'; ErrorId = 'ImapAuthenticationFailed'; Category = 'AuthenticationError'; Change = @{ Credential = $null } }
            @{ Scenario = 'a folder that does not exist'; Step = 'Folder'; ErrorId = 'ImapFolderNotFound'; Category = 'ObjectNotFound'; Change = @{ Folder = 'NoSuchFolder' } }
            @{ Scenario = 'an untrusted certificate'; Step = 'Tls'; ErrorId = 'ImapCertificateUntrusted'; Category = 'SecurityError'; Change = @{ CertificateThumbprint = $null } }
            @{ Scenario = 'a pin of another certificate'; Step = 'Tls'; ErrorId = 'ImapCertificateUntrusted'; Category = 'SecurityError'; Change = @{ CertificateThumbprint = ('AB' * 32) } }
            @{ Scenario = 'a plaintext IMAP port'; Step = 'Tls'; ErrorId = 'ImapPlaintextRefused'; Category = 'SecurityError'; Change = @{ Port = 'plaintext' } }
            @{ Scenario = 'a server that is down'; Step = 'Connect'; ErrorId = 'ImapConnectFailed'; Category = 'ConnectionError'; Change = @{ Port = 'free' } }
            @{ Scenario = 'a host name that does not resolve'; Step = 'Dns'; ErrorId = 'ImapHostNotFound'; Category = 'ConnectionError'; Change = @{ Server = 'no-such-host.invalid' } }
        ) {
            param($Scenario, $Step, $ErrorId, $Category, $Change)
            $params = $common.Clone()
            $params.Credential = $credential
            foreach ($key in $Change.Keys) { $params[$key] = $Change[$key] }
            if ($Change.ContainsKey('Credential')) { $params.Credential = $wrong }
            if ($params.Port -eq 'plaintext') { $params.Port = $server.PlaintextImapPort }
            if ($params.Port -eq 'free') { $params.Port = Get-TestMailFreePort }
            if ($null -eq $params.CertificateThumbprint) { $params.Remove('CertificateThumbprint') }

            $report = Test-ReplyImapConnection @params -ErrorAction SilentlyContinue -ErrorVariable failure
            $report.Succeeded | Should -BeFalse
            $report.FailedStep | Should -Be $Step
            $report.FailureErrorId | Should -Be $ErrorId
            $report.RecommendedAction | Should -Not -BeNullOrEmpty
            $failure | Should -HaveCount 1
            $failure[0].FullyQualifiedErrorId | Should -Be "$ErrorId,ReplyAdmin.Commands.TestReplyImapConnectionCommand"
            $failure[0].CategoryInfo.Category | Should -Be $Category
            $failure[0].ToString() | Should -Not -Match ([regex]::Escape($password))
            Test-ReplyImapConnection @params -Quiet -ErrorAction SilentlyContinue | Should -BeExactly $false
        }

        It 'Tells how to pin a self-signed certificate, naming its thumbprint' {
            $params = $common.Clone(); $params.Remove('CertificateThumbprint')
            $report = Test-ReplyImapConnection @params -Credential $credential -ErrorAction SilentlyContinue
            $report.RecommendedAction | Should -Match $server.CertificateThumbprint
            $report.Certificate.Thumbprint | Should -Be $server.CertificateThumbprint
        }
    }

    Context 'When it uses the configured reply mailbox' {
        BeforeEach {
            $config = New-TestReplyConfiguration -Server $server
        }

        It 'Resolves the password from an environment variable reference' {
            (Test-ReplyImapConnection -ConfigPath $config).Succeeded | Should -BeTrue
        }

        It 'Resolves the password from a protected file and refuses a file others can read' {
            $file = Join-Path (Split-Path $config) 'imap-password'
            Set-Content -Path $file -Value $password -NoNewline
            & chmod 600 $file
            Set-ReplyMailbox -ConfigPath $config -CredentialReference "file:$file"
            (Test-ReplyImapConnection -ConfigPath $config).Succeeded | Should -BeTrue
            & chmod 644 $file
            { Test-ReplyImapConnection -ConfigPath $config -ErrorAction Stop } |
                Should -Throw -ErrorId 'CredentialFileTooOpen,ReplyAdmin.Commands.TestReplyImapConnectionCommand'
        }

        It 'Reports <Scenario> as <ErrorId>' -TestCases @(
            @{ Scenario = 'an unset environment variable'; Reference = 'env:REPLYADMIN_TEST_UNSET_VARIABLE'; ErrorId = 'CredentialNotFound' }
            @{ Scenario = 'a missing password file'; Reference = 'file:/nonexistent/password'; ErrorId = 'CredentialNotFound' }
            @{ Scenario = 'a secret without SecretManagement'; Reference = 'secret:ReplyAdminImap'; ErrorId = 'CredentialStoreUnavailable' }
        ) {
            param($Scenario, $Reference, $ErrorId)
            Set-ReplyMailbox -ConfigPath $config -CredentialReference $Reference
            { Test-ReplyImapConnection -ConfigPath $config -ErrorAction Stop } |
                Should -Throw -ErrorId "$ErrorId,ReplyAdmin.Commands.TestReplyImapConnectionCommand"
        }

        It 'Reports a missing credential reference and accepts -Credential instead' {
            $json = Get-Content $config -Raw | ConvertFrom-Json
            $json.replyMailbox.PSObject.Properties.Remove('credentialReference')
            $json | ConvertTo-Json -Depth 5 | Set-Content $config
            { Test-ReplyImapConnection -ConfigPath $config -ErrorAction Stop } |
                Should -Throw -ErrorId 'CredentialReferenceMissing,ReplyAdmin.Commands.TestReplyImapConnectionCommand'
            (Test-ReplyImapConnection -ConfigPath $config -Credential $credential).Succeeded | Should -BeTrue
        }

        It 'Completes folder names from the server' {
            $client = Connect-TestImap -Server $server -User 'replies@example.test'
            try { $null = Get-TestImapFolder -Client $client -Folder 'Campaigns/Spring 2026' -Create } finally { $client.Disconnect($true); $client.Dispose() }
            $line = "Set-ReplyMailbox -ConfigPath '$config' -Folder Camp"
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $completion.CompletionMatches.CompletionText | Should -Contain "'Campaigns/Spring 2026'"
            $completion.CompletionMatches.CompletionText | Should -Contain 'Campaigns'
        }

        It 'Reports a reply mailbox that is not configured' {
            { Test-ReplyImapConnection -ConfigPath (New-TestConfigPath) -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReplyMailboxNotConfigured,ReplyAdmin.Commands.TestReplyImapConnectionCommand'
        }

        It 'Says in verbose output what it tests without the password' {
            $verbose = Test-ReplyImapConnection -ConfigPath $config -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            ($verbose.Message -join "`n") | Should -Match 'implicit TLS'
            ($verbose.Message -join "`n") | Should -Not -Match ([regex]::Escape($password))
        }
    }

    Context 'When it tests the configured source (-Target Source)' {
        It 'Tests an IMAP source like the reply mailbox' {
            $config = New-TestReplyConfiguration -Server $server
            $env:REPLYADMIN_TEST_SOURCE_PW = $server.Users['inbound@example.test']
            Set-ReplySource -ConfigPath $config -Kind Imap -Server $server.ImapHost -Port $server.ImapPort -UserName 'inbound@example.test' `
                -CredentialReference 'env:REPLYADMIN_TEST_SOURCE_PW' -CertificateThumbprint $server.CertificateThumbprint
            $report = Test-ReplyImapConnection -ConfigPath $config -Target Source
            $report.Succeeded | Should -BeTrue
            $report.UserName | Should -Be 'inbound@example.test'
            $report.TlsProtocol | Should -Match '^Tls1[23]$'
        }

        It 'Tests a directory source for existence and write access' {
            $config = New-TestReplyConfiguration -Server $server
            $inbound = Join-Path (Split-Path $config) "inbound"; $null = New-Item -ItemType Directory -Path $inbound
            $null = New-Item -ItemType File -Path (Join-Path $inbound 'one.eml')
            Set-ReplySource -ConfigPath $config -Kind Directory -Path $inbound
            $report = Test-ReplyImapConnection -ConfigPath $config -Target Source
            $report.Succeeded | Should -BeTrue
            $report.Kind | Should -Be 'Directory'
            $report.WaitingMessages | Should -Be 1
        }

        It 'Reports a directory source that does not exist as SourceNotFound' {
            $config = New-TestReplyConfiguration -Server $server
            Set-ReplySource -ConfigPath $config -Kind Maildir -Path (Join-Path (Split-Path $config) 'missing')
            $report = Test-ReplyImapConnection -ConfigPath $config -Target Source -ErrorVariable failure -ErrorAction SilentlyContinue
            $report.Succeeded | Should -BeFalse
            $failure[0].FullyQualifiedErrorId | Should -Be 'SourceNotFound,ReplyAdmin.Commands.TestReplyImapConnectionCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'Reports a source that is not configured as ReplySourceNotConfigured' {
            { Test-ReplyImapConnection -ConfigPath (New-TestReplyConfiguration -Server $server) -Target Source -ErrorAction Stop } |
                Should -Throw -ErrorId 'ReplySourceNotConfigured,ReplyAdmin.Commands.TestReplyImapConnectionCommand'
        }
    }

    Context 'When the pinned certificate has expired and names another host (issue 16)' {
        BeforeAll {
            # A one-connection TLS server with such a certificate: it greets and hangs up, which is enough for the handshake.
            Add-Type -TypeDefinition @'
using System;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Tasks;
public sealed class OneTlsGreeting
{
    private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
    public OneTlsGreeting(X509Certificate2 certificate)
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Served = Task.Run(async () =>
        {
            using (var client = await _listener.AcceptTcpClientAsync())
            using (var tls = new SslStream(client.GetStream()))
            {
                await tls.AuthenticateAsServerAsync(certificate);
                var bye = Encoding.ASCII.GetBytes("* BYE test server\r\n");
                await tls.WriteAsync(bye, 0, bye.Length);
            }
            _listener.Stop();
        });
    }
    public int Port { get; }
    public Task Served { get; }
}
'@
            $rsa = [Security.Cryptography.RSA]::Create(2048)
            $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=other.example.test', $rsa,
                [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.RSASignaturePadding]::Pkcs1)
            $notAfter = [DateTimeOffset]::UtcNow.AddDays(-3)
            $ephemeral = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-60), $notAfter)
            $certificate = [Security.Cryptography.X509Certificates.X509Certificate2]::new($ephemeral.Export('Pfx'))
            $thumbprint = [BitConverter]::ToString([Security.Cryptography.SHA256]::HashData($certificate.RawData)).Replace('-', '')
            $tlsServer = [OneTlsGreeting]::new($certificate)
            $report = Test-ReplyImapConnection -Server '127.0.0.1' -Port $tlsServer.Port -CertificateThumbprint $thumbprint -Credential $credential `
                -TimeoutSeconds 5 -WarningVariable certificateWarnings -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
            $null = $tlsServer.Served.Wait(5000)
        }

        It 'Accepts it for the pin and warns with its expiry date and the other name' {
            $report.Certificate.Pinned | Should -BeTrue
            $report.FailedStep | Should -Not -Be 'Tls'
            $warning = @($certificateWarnings) -join "`n"
            $warning | Should -Match ([regex]::Escape("expired on $($notAfter.UtcDateTime.ToString('yyyy-MM-dd'))"))
            $warning | Should -Match 'names another host \(other\.example\.test\)'
            $report.Certificate.Warning | Should -Be @($certificateWarnings)[0].Message
        }
    }
}
