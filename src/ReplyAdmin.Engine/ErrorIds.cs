namespace ReplyAdmin.Engine
{
    /// <summary>
    /// Every error id the module reports, in one place: stable PascalCase <c>&lt;Noun&gt;&lt;Problem&gt;</c> names that
    /// scripts match on (<c>$_.FullyQualifiedErrorId</c>) and that never change between versions. Grouped by noun.
    /// </summary>
    public static class ErrorIds
    {
#pragma warning disable CS1591 // the name is the documentation; docs/help says what each means where it is raised
        public const string AuthservIdInvalid = nameof(AuthservIdInvalid);
        public const string AuthservIdRequired = nameof(AuthservIdRequired);

        public const string AutoReplyHandlingInvalid = nameof(AutoReplyHandlingInvalid);

        public const string CertificateThumbprintInvalid = nameof(CertificateThumbprintInvalid);

        public const string ClamdAddressInvalid = nameof(ClamdAddressInvalid);
        public const string ClamdEicarNotDetected = nameof(ClamdEicarNotDetected);
        public const string ClamdTimeout = nameof(ClamdTimeout);
        public const string ClamdUnexpectedAnswer = nameof(ClamdUnexpectedAnswer);
        public const string ClamdUnreachable = nameof(ClamdUnreachable);

        public const string ConfigurationFileInvalid = nameof(ConfigurationFileInvalid);
        public const string ConfigurationLocked = nameof(ConfigurationLocked);
        public const string ConfigurationSchemaUnsupported = nameof(ConfigurationSchemaUnsupported);
        public const string ConfigurationUnreadable = nameof(ConfigurationUnreadable);
        public const string ConfigurationWritableByOthers = nameof(ConfigurationWritableByOthers);
        public const string ConfigurationWriteFailed = nameof(ConfigurationWriteFailed);

        public const string CredentialFileTooOpen = nameof(CredentialFileTooOpen);
        public const string CredentialFileUnreadable = nameof(CredentialFileUnreadable);
        public const string CredentialNotFound = nameof(CredentialNotFound);
        public const string CredentialReferenceInvalid = nameof(CredentialReferenceInvalid);
        public const string CredentialReferenceMissing = nameof(CredentialReferenceMissing);
        public const string CredentialReferenceRelative = nameof(CredentialReferenceRelative);
        public const string CredentialStoreUnavailable = nameof(CredentialStoreUnavailable);

        public const string EnvelopeSenderInvalid = nameof(EnvelopeSenderInvalid);

        public const string FolderNameInvalid = nameof(FolderNameInvalid);

        public const string ForwardAddressDuplicate = nameof(ForwardAddressDuplicate);
        public const string ForwardAddressInbound = nameof(ForwardAddressInbound);
        public const string ForwardAddressInvalid = nameof(ForwardAddressInvalid);
        public const string ForwardAddressLoop = nameof(ForwardAddressLoop);
        public const string ForwardAddressRequired = nameof(ForwardAddressRequired);

        public const string HostInvalid = nameof(HostInvalid);

        public const string ImapAuthenticationFailed = nameof(ImapAuthenticationFailed);
        public const string ImapCertificateUntrusted = nameof(ImapCertificateUntrusted);
        public const string ImapCommandFailed = nameof(ImapCommandFailed);
        public const string ImapConnectFailed = nameof(ImapConnectFailed);
        public const string ImapConnectTimeout = nameof(ImapConnectTimeout);
        public const string ImapConnectionLost = nameof(ImapConnectionLost);
        public const string ImapFolderNotFound = nameof(ImapFolderNotFound);
        public const string ImapFolderNotSelectable = nameof(ImapFolderNotSelectable);
        public const string ImapFolderReadOnly = nameof(ImapFolderReadOnly);
        public const string ImapHostNotFound = nameof(ImapHostNotFound);
        public const string ImapOAuthTokenRejected = nameof(ImapOAuthTokenRejected);
        public const string ImapPlaintextRefused = nameof(ImapPlaintextRefused);
        public const string ImapProtocolError = nameof(ImapProtocolError);
        public const string ImapTlsFailed = nameof(ImapTlsFailed);

        public const string JournalUnwritable = nameof(JournalUnwritable);

        public const string LeaseConfigurationInvalid = nameof(LeaseConfigurationInvalid);
        public const string LeaseHeld = nameof(LeaseHeld);
        public const string LeaseLost = nameof(LeaseLost);
        public const string LeaseUnavailable = nameof(LeaseUnavailable);
        public const string ShardsNotConfigured = nameof(ShardsNotConfigured);

        public const string ListAddressDuplicate = nameof(ListAddressDuplicate);
        public const string ListAddressInvalid = nameof(ListAddressInvalid);
        public const string ListNameDuplicate = nameof(ListNameDuplicate);
        public const string ListNameInvalid = nameof(ListNameInvalid);
        public const string ListNotFound = nameof(ListNotFound);

        public const string MaxMessageSizeOutOfRange = nameof(MaxMessageSizeOutOfRange);

        public const string MessageFileNotFound = nameof(MessageFileNotFound);
        public const string MessageProcessingFailed = nameof(MessageProcessingFailed);
        public const string MessageUnreadable = nameof(MessageUnreadable);

        public const string OAuthAuthorityCertificateUntrusted = nameof(OAuthAuthorityCertificateUntrusted);
        public const string OAuthAuthorityInvalid = nameof(OAuthAuthorityInvalid);
        public const string OAuthCertificateInvalid = nameof(OAuthCertificateInvalid);
        public const string OAuthClientCredentialAmbiguous = nameof(OAuthClientCredentialAmbiguous);
        public const string OAuthClientCredentialMissing = nameof(OAuthClientCredentialMissing);
        public const string OAuthClientIdMissing = nameof(OAuthClientIdMissing);
        public const string OAuthCommandFailed = nameof(OAuthCommandFailed);
        public const string OAuthCommandMissing = nameof(OAuthCommandMissing);
        public const string OAuthGrantRevoked = nameof(OAuthGrantRevoked);
        public const string OAuthKeyInvalid = nameof(OAuthKeyInvalid);
        public const string OAuthKeyReferenceMissing = nameof(OAuthKeyReferenceMissing);
        public const string OAuthNotConfigured = nameof(OAuthNotConfigured);
        public const string OAuthScopeInvalid = nameof(OAuthScopeInvalid);
        public const string OAuthSettingsWithoutOAuth2 = nameof(OAuthSettingsWithoutOAuth2);
        public const string OAuthSignInNotNeeded = nameof(OAuthSignInNotNeeded);
        public const string OAuthSignInRequired = nameof(OAuthSignInRequired);
        public const string OAuthTenantIdMissing = nameof(OAuthTenantIdMissing);
        public const string OAuthTokenCacheMissing = nameof(OAuthTokenCacheMissing);
        public const string OAuthTokenCacheTooOpen = nameof(OAuthTokenCacheTooOpen);
        public const string OAuthTokenEndpointUnavailable = nameof(OAuthTokenEndpointUnavailable);
        public const string OAuthTokenRequestFailed = nameof(OAuthTokenRequestFailed);
        public const string OAuthTokenSourceMissing = nameof(OAuthTokenSourceMissing);
        public const string OAuthUserNameMissing = nameof(OAuthUserNameMissing);

        public const string OutgoingServerNotConfigured = nameof(OutgoingServerNotConfigured);

        public const string PortOutOfRange = nameof(PortOutOfRange);

        public const string ProcessedFolderIsSource = nameof(ProcessedFolderIsSource);

        public const string ProcessingAlreadyRunning = nameof(ProcessingAlreadyRunning);

        public const string ProfileExists = nameof(ProfileExists);
        public const string ProfileWriteFailed = nameof(ProfileWriteFailed);

        public const string PwshNotFound = nameof(PwshNotFound);

        public const string ReplyActionInvalid = nameof(ReplyActionInvalid);
        public const string ReplyMailboxNotConfigured = nameof(ReplyMailboxNotConfigured);
        public const string ReplySourceNotConfigured = nameof(ReplySourceNotConfigured);

        public const string RspamdGtubeNotDetected = nameof(RspamdGtubeNotDetected);
        public const string RspamdTimeout = nameof(RspamdTimeout);
        public const string RspamdUnexpectedAnswer = nameof(RspamdUnexpectedAnswer);
        public const string RspamdUnreachable = nameof(RspamdUnreachable);
        public const string RspamdUrlInsecure = nameof(RspamdUrlInsecure);
        public const string RspamdUrlInvalid = nameof(RspamdUrlInvalid);

        public const string ScanFailureModeInvalid = nameof(ScanFailureModeInvalid);

        public const string ScannerNotConfigured = nameof(ScannerNotConfigured);
        public const string ScannerNotGiven = nameof(ScannerNotGiven);
        public const string ScannerTestScanFailed = nameof(ScannerTestScanFailed);
        public const string ScannerTimeoutOutOfRange = nameof(ScannerTimeoutOutOfRange);

        public const string ScheduleArgumentInvalid = nameof(ScheduleArgumentInvalid);
        public const string ScheduleCronNotInstalled = nameof(ScheduleCronNotInstalled);
        public const string ScheduleDisableFailed = nameof(ScheduleDisableFailed);
        public const string ScheduleEnableFailed = nameof(ScheduleEnableFailed);
        public const string ScheduleIntervalUnsupported = nameof(ScheduleIntervalUnsupported);
        public const string ScheduleNameInvalid = nameof(ScheduleNameInvalid);
        public const string ScheduleNotFound = nameof(ScheduleNotFound);
        public const string ScheduleNotReplyAdmin = nameof(ScheduleNotReplyAdmin);
        public const string ScheduleRegisterFailed = nameof(ScheduleRegisterFailed);
        public const string ScheduleRemoveFailed = nameof(ScheduleRemoveFailed);
        public const string ScheduleRunnerUnavailable = nameof(ScheduleRunnerUnavailable);
        public const string ScheduleWatchUnsupported = nameof(ScheduleWatchUnsupported);
        public const string ScheduleWriteFailed = nameof(ScheduleWriteFailed);

        public const string ScheduledRunArgumentInvalid = nameof(ScheduledRunArgumentInvalid);
        public const string ScheduledTasksUnavailable = nameof(ScheduledTasksUnavailable);

        public const string SmtpAuthenticationFailed = nameof(SmtpAuthenticationFailed);
        public const string SmtpCertificateUntrusted = nameof(SmtpCertificateUntrusted);
        public const string SmtpConnectionLost = nameof(SmtpConnectionLost);
        public const string SmtpForwardDeferred = nameof(SmtpForwardDeferred);
        public const string SmtpForwardRejected = nameof(SmtpForwardRejected);
        public const string SmtpOAuthTokenRejected = nameof(SmtpOAuthTokenRejected);
        public const string SmtpPlaintextRefused = nameof(SmtpPlaintextRefused);
        public const string SmtpRelayNotConfigured = nameof(SmtpRelayNotConfigured);
        public const string SmtpRelayUnavailable = nameof(SmtpRelayUnavailable);
        public const string SmtpTlsFailed = nameof(SmtpTlsFailed);
        public const string SmtpTlsRequired = nameof(SmtpTlsRequired);

        public const string SourceIsReplyFolder = nameof(SourceIsReplyFolder);
        public const string SourceKindUnsupported = nameof(SourceKindUnsupported);
        public const string SourceMessageGone = nameof(SourceMessageGone);
        public const string SourceMoveFailed = nameof(SourceMoveFailed);
        public const string SourceNotFound = nameof(SourceNotFound);
        public const string SourceNotWritable = nameof(SourceNotWritable);
        public const string SourcePathInvalid = nameof(SourcePathInvalid);

        public const string TrustedRelayInvalid = nameof(TrustedRelayInvalid);

        public const string UserNameInvalid = nameof(UserNameInvalid);

        public const string DkimDomainInvalid = nameof(DkimDomainInvalid);
        public const string DkimKeyMismatch = nameof(DkimKeyMismatch);
        public const string DkimKeyNotPublished = nameof(DkimKeyNotPublished);
        public const string DkimKeyUnreadable = nameof(DkimKeyUnreadable);
        public const string DkimKeyUnsupported = nameof(DkimKeyUnsupported);
        public const string DkimSelectorInvalid = nameof(DkimSelectorInvalid);
        public const string DkimSettingsIncomplete = nameof(DkimSettingsIncomplete);
        // Sender authentication (#15)
        public const string DnsServerInvalid = nameof(DnsServerInvalid);
        public const string DnsTimeoutOutOfRange = nameof(DnsTimeoutOutOfRange);
        public const string ForwardModeInvalid = nameof(ForwardModeInvalid);
        public const string PublicSuffixListNotFound = nameof(PublicSuffixListNotFound);
        public const string MessageFileUnreadable = nameof(MessageFileUnreadable);
#pragma warning restore CS1591
    }
}
