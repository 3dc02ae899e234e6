import Foundation
import Testing

@testable import BangfuApp

@Suite struct CreditCodeTests {
    /// Published 统一社会信用代码 of well-known companies.
    static let realCodes = [
        "914403001922038216",  // 华为技术有限公司
        "91330100716105852F",  // 阿里巴巴（中国）有限公司
        "91440300708461136T",  // 深圳市腾讯计算机系统有限公司
        "91110000802100433B",  // 北京百度网讯科技有限公司
        "91110108551385082Q",  // 小米科技有限责任公司
        "91350100M000100Y43",
    ]

    @Test(arguments: realCodes)
    func realCodesPass(_ code: String) {
        #expect(CreditCode.problem(code) == nil)
    }

    /// Every substitution of one character by another of the alphabet is caught: the weights are
    /// all non-zero modulo the prime 31.
    @Test(arguments: realCodes)
    func everySingleCharacterCorruptionIsCaught(_ code: String) {
        let characters = Array(code)
        for position in 0..<18 {
            for replacement in CreditCode.alphabet where replacement != characters[position] {
                var corrupted = characters
                corrupted[position] = replacement
                #expect(CreditCode.problem(String(corrupted)) != nil, "\(String(corrupted)) passed")
            }
        }
    }

    @Test func shapeProblems() {
        #expect(CreditCode.problem("91440300708461136") == .length)
        #expect(CreditCode.problem("91440300708461136TT") == .length)
        #expect(CreditCode.problem("9144030070846113IT") == .character(position: 17))
        #expect(CreditCode.problem("91440300708461136X") == .checkCharacter(expected: "T"))
        #expect(CreditCode.problem("91440300708461136t") != nil)  // callers upper-case first
        #expect(CreditCode.areaCode("91230129MA1B2C3D4A") == "230129")
        #expect(CreditCode.checkCharacter(Array("91230129MA1B2C3D4")) == "A")
    }
}

@Suite struct OnboardingRuleTests {
    @Test func transitions() {
        #expect(OnboardingRules.next(from: .submitted, .recommend, by: .county) == .recommended)
        #expect(OnboardingRules.next(from: .recommended, .approve, by: .admin) == .approved)
        #expect(OnboardingRules.next(from: .submitted, .reject, by: .county) == .rejected)
        #expect(OnboardingRules.next(from: .submitted, .reject, by: .admin) == .rejected)
        #expect(OnboardingRules.next(from: .recommended, .reject, by: .admin) == .rejected)
        #expect(OnboardingRules.next(from: .rejected, .resubmit, by: .merchant) == .submitted)
        // Everything else is refused.
        #expect(OnboardingRules.next(from: .recommended, .reject, by: .county) == nil)
        #expect(OnboardingRules.next(from: .submitted, .approve, by: .admin) == nil)
        #expect(OnboardingRules.next(from: .submitted, .recommend, by: .admin) == nil)
        #expect(OnboardingRules.next(from: .approved, .reject, by: .admin) == nil)
        #expect(OnboardingRules.next(from: .approved, .resubmit, by: .merchant) == nil)
        #expect(OnboardingRules.next(from: .submitted, .resubmit, by: .merchant) == nil)
        #expect(OnboardingRules.next(from: .rejected, .recommend, by: .county) == nil)
    }

    @Test(arguments: ["13812345678", "19912345678", "0451-12345678", "045112345678", "010-1234567", "0451-12345678-123"])
    func validPhones(_ phone: String) {
        #expect(PhoneNumber.isValid(phone))
    }

    @Test(arguments: ["12812345678", "1381234567", "138123456789", "451-12345678", "0451-123", "phone", "", "0451-12345678-1234567", "+8613812345678"])
    func invalidPhones(_ phone: String) {
        #expect(!PhoneNumber.isValid(phone))
    }

    @Test func sniffing() {
        #expect(SniffedType.sniff(Array("%PDF-1.7\n".utf8)) == .pdf)
        #expect(SniffedType.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(SniffedType.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(SniffedType.sniff(Array("hello, this is text".utf8)) == nil)
        #expect(SniffedType.sniff([]) == nil)
    }

    @Test func datesAndMasks() {
        #expect(CalendarDate("2027-02-28") != nil)
        #expect(CalendarDate("2027-02-29") == nil)
        #expect(CalendarDate("2028-02-29") != nil)
        #expect(CalendarDate("2027-13-01") == nil)
        #expect(CalendarDate("27-01-01") == nil)
        #expect(maskedAccount("6222021234567890") == "************7890")
        #expect(maskedAccount("123") == "***")
    }

    @Test func areaWarning() {
        func fields(_ code: String, _ county: String) -> ApplicationFields {
            ApplicationFields(
                companyName: "x", creditCode: code, legalRepresentative: "x", contactName: "x", contactPhone: "x",
                countyCode: county, address: "x", foodLicenseNumber: nil, bankName: "x", bankAccount: "x",
                householdsDriven: 0)
        }
        #expect(OnboardingRules.warnings(for: fields("91230129MA1B2C3D4A", "230129")).isEmpty)
        #expect(OnboardingRules.warnings(for: fields("91230100MA1B2C3D6F", "230129")).count == 1)
    }
}
