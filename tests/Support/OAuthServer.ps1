# Test OAuth 2.0 authorization server (tests/Support/OAuthTestServer.cs), running in the test process on loopback.
# Dot-source it: . "$PSScriptRoot/Support/OAuthServer.ps1"
Set-StrictMode -Version Latest

if (-not ('ReplyAdminTests.OAuthTestServer' -as [type])) {
    Add-Type -Path (Join-Path $PSScriptRoot 'OAuthTestServer.cs')
}

# A self-signed certificate for 127.0.0.1: the authority's TLS certificate, trusted by ReplyAdmin only through its pin.
function New-TestOAuthTlsCertificate {
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=127.0.0.1', $rsa,
        [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
    $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
    $san.AddIpAddress([System.Net.IPAddress]::Loopback)
    $request.CertificateExtensions.Add($san.Build())
    $cert = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(2))
    # Re-import through PKCS#12 so SslStream on Linux can use the private key.
    [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($cert.Export('Pkcs12'), [string] $null, 'Exportable')
}

function Start-TestOAuthServer {
    param([int] $TokenLifetimeSeconds = 3600)
    $tls = New-TestOAuthTlsCertificate
    $server = [ReplyAdminTests.OAuthTestServer]::new($tls, $TokenLifetimeSeconds)
    [pscustomobject]@{
        Server         = $server
        Authority      = $server.Authority
        TokenUrl       = $server.TokenUrl
        Introspection  = $server.IntrospectionUrl
        Thumbprint     = $tls.GetCertHashString([System.Security.Cryptography.HashAlgorithmName]::SHA256)
    }
}

function Stop-TestOAuthServer {
    param($OAuth)
    if ($OAuth) { $OAuth.Server.Dispose() }
}

# An app's certificate with private key as a password-less .pfx (mode 600), registered with the server for $User.
function New-TestOAuthClientCertificate {
    param($OAuth, [string] $ClientId, [string] $User, [string] $Directory)
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$ClientId", $rsa,
        [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
    $cert = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(2))
    $path = Join-Path $Directory "$ClientId.pfx"
    [IO.File]::WriteAllBytes($path, $cert.Export('Pkcs12', [string] $null))
    & chmod 600 $path
    $OAuth.Server.AddKeyClient($ClientId, $rsa, $User)
    $path
}

# A Google service account JSON key (mode 600) whose token_uri is the test server, registered for domain-wide delegation.
function New-TestGoogleServiceAccountKey {
    param($OAuth, [string] $ClientEmail, [string] $Directory)
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    $pem = "-----BEGIN PRIVATE KEY-----`n" + [Convert]::ToBase64String($rsa.ExportPkcs8PrivateKey(), 'InsertLineBreaks') + "`n-----END PRIVATE KEY-----`n"
    $key = [ordered]@{
        type = 'service_account'; project_id = 'replyadmin-test'; private_key_id = 'key1'; private_key = $pem
        client_email = $ClientEmail; client_id = '1234567890'; token_uri = $OAuth.TokenUrl
    }
    $path = Join-Path $Directory "$($ClientEmail.Split('@')[0]).json"
    [IO.File]::WriteAllText($path, ($key | ConvertTo-Json))
    & chmod 600 $path
    $public = [System.Security.Cryptography.RSA]::Create()
    $public.ImportParameters($rsa.ExportParameters($false))
    $OAuth.Server.AddKeyClient($ClientEmail, $public, '')
    $path
}
