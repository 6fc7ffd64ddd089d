# Sender authentication for tests (issue #15): DKIM keys made with openssl, dnsmasq records that publish them and the
# domains' DMARC policies, messages signed with MimeKit's DkimSigner, and rspamd asked as a receiving provider would.
# Dot-source after Common.ps1, MailServer.ps1 and Scanners.ps1 (the dnsmasq/rspamd harness is Scanners.ps1's, started
# with -DnsArguments (New-TestDnsRecordArguments ...) -VerifySenders).
Set-StrictMode -Version Latest

function New-TestDkimKey {
    # An RSA key (2048 bits) in PEM and its public half as a DKIM TXT record.
    param([Parameter(Mandatory)] [string] $Domain, [string] $Selector = 's1', [Parameter(Mandatory)] [string] $Directory)
    $null = New-Item -ItemType Directory -Path $Directory -Force
    $keyPath = Join-Path $Directory "$Selector.$Domain.pem"
    $null = Invoke-TestMailNative -FilePath 'openssl' -ArgumentList 'genrsa', '-traditional', '-out', $keyPath, '2048'
    $der = Join-Path $Directory "$Selector.$Domain.der"
    $null = Invoke-TestMailNative -FilePath 'openssl' -ArgumentList 'rsa', '-in', $keyPath, '-pubout', '-outform', 'DER', '-out', $der
    [pscustomobject]@{
        Domain   = $Domain
        Selector = $Selector
        KeyPath  = $keyPath
        Record   = "v=DKIM1; k=rsa; p=$([Convert]::ToBase64String([IO.File]::ReadAllBytes($der)))"
    }
}

function New-TestDnsRecordArguments {
    # dnsmasq options: the zone answers NXDOMAIN for names it does not know (so "no DMARC record" is an answer, not a
    # refusal), each key at selector._domainkey.domain (in strings of at most 255 bytes) and each DMARC record. No quotes:
    # dnsmasq keeps quotes given on its command line as part of the text; a comma separates the strings.
    param([string[]] $LocalZone = @('test'), [object[]] $Keys = @(), [hashtable] $Dmarc = @{})
    foreach ($zone in $LocalZone) { "--local=/$zone/" }
    foreach ($key in $Keys) {
        $chunks = for ($i = 0; $i -lt $key.Record.Length; $i += 250) { $key.Record.Substring($i, [Math]::Min(250, $key.Record.Length - $i)) }
        "--txt-record=$($key.Selector)._domainkey.$($key.Domain),$($chunks -join ',')"
    }
    foreach ($domain in $Dmarc.Keys) { "--txt-record=_dmarc.$domain,$($Dmarc[$domain])" }
}

function New-TestReplyText {
    # A plain reply as a customer's mail client writes it (CRLF), with a token in Subject and Message-ID.
    param([Parameter(Mandatory)] [string] $From, [Parameter(Mandatory)] [string] $To, [Parameter(Mandatory)] [string] $Token, [string] $Body = 'Thanks, we are interested.')
    "From: $From`r`nTo: $To`r`nSubject: Re: offer $Token`r`nDate: Mon, 02 Nov 2026 10:00:00 +0000`r`nMessage-ID: <$Token@client.test>`r`nMIME-Version: 1.0`r`nContent-Type: text/plain; charset=us-ascii`r`n`r`n$Body`r`n"
}

function New-TestSignedMessageBytes {
    # Signs a message text with MimeKit's DkimSigner (relaxed/relaxed, rsa-sha256) and returns the bytes as sent.
    param([Parameter(Mandatory)] [string] $Text, [Parameter(Mandatory)] $Key)
    $message = (Get-ReplyAdminType MimeKit.MimeMessage)::Load([IO.MemoryStream]::new([Text.Encoding]::ASCII.GetBytes($Text)))
    $algorithm = [Enum]::Parse((Get-ReplyAdminType MimeKit.Cryptography.DkimSignatureAlgorithm), 'RsaSha256')
    $signer = (Get-ReplyAdminType MimeKit.Cryptography.DkimSigner)::new($Key.KeyPath, $Key.Domain, $Key.Selector, $algorithm)
    $relaxed = [Enum]::Parse((Get-ReplyAdminType MimeKit.Cryptography.DkimCanonicalizationAlgorithm), 'Relaxed')
    $signer.HeaderCanonicalizationAlgorithm = $relaxed
    $signer.BodyCanonicalizationAlgorithm = $relaxed
    $signer.Sign($message, [string[]] @('From', 'To', 'Subject', 'Date', 'Message-ID'))
    $buffer = [IO.MemoryStream]::new()
    $message.WriteTo($buffer)
    $buffer.ToArray()
}

function Invoke-TestRspamdCheck {
    # Asks rspamd (checkv2) as the forward address's provider would, with the relay's IP, HELO and envelope sender.
    # Returns the symbol names and the raw answer.
    param([Parameter(Mandatory)] [string] $RspamdUrl, [Parameter(Mandatory)] [byte[]] $Bytes, [string] $Ip = '192.0.2.25',
        [string] $Helo = 'relay.example.test', [string] $EnvelopeFrom = 'bounces@example.test', [string] $Rcpt = 'forward@example.test')
    $http = [System.Net.Http.HttpClient]::new(); $http.Timeout = [TimeSpan]::FromSeconds(20)
    try {
        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Post, "$RspamdUrl/checkv2")
        $request.Content = [System.Net.Http.ByteArrayContent]::new($Bytes)
        foreach ($h in @{ IP = $Ip; Helo = $Helo; From = $EnvelopeFrom; Rcpt = $Rcpt }.GetEnumerator()) { $null = $request.Headers.TryAddWithoutValidation($h.Key, $h.Value) }
        $answer = $http.SendAsync($request).GetAwaiter().GetResult().Content.ReadAsStringAsync().GetAwaiter().GetResult()
        $json = $answer | ConvertFrom-Json
        [pscustomobject]@{ Symbols = @($json.symbols.PSObject.Properties.Name); Answer = $answer }
    } finally { $http.Dispose() }
}

function Get-TestHeaderBlock([byte[]] $Bytes) {
    # The header block of a message as text (up to the first empty line), unfolded.
    $text = [Text.Encoding]::UTF8.GetString($Bytes)
    $end = $text.IndexOf("`r`n`r`n"); if ($end -lt 0) { $end = $text.IndexOf("`n`n") }
    ($(if ($end -ge 0) { $text.Substring(0, $end) } else { $text })) -replace "`r?`n[ `t]+", ' '
}
